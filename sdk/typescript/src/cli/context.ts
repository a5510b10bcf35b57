/** What every CLI command gets: the connection, the output mode and the process streams. */
import type { ConnectionOptions } from '../connection.js';

export interface CliContext {
  conn: ConnectionOptions;
  json: boolean;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
  /** Aborted on Ctrl-C. */
  signal: AbortSignal;
}

export function printJson(ctx: CliContext, value: unknown): void {
  ctx.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
