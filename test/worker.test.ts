import { describe, expect, it } from 'vitest';

describe('worker logs', () => {
  it("routes the Temporal SDK's logs into pino as JSON with their metadata, at the configured level", async () => {
    const { default: pino } = await import('pino');
    const { temporalLoggerFor } = await import('../src/worker.js');
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const sdk = temporalLoggerFor(logger, 'info');
    sdk.info('deadline reached', { sandboxID: 'abc', workflowId: 'sandbox-abc' });
    sdk.debug('too chatty');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ level: 30, msg: 'deadline reached', sandboxID: 'abc', workflowId: 'sandbox-abc' });
  });
});
