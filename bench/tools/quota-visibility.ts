/**
 * What the per-owner quota check costs in Temporal visibility at N live sandboxes, old way vs
 * new, interleaved on one private dev server (SQLite, berth's dynamic config): N workflows of
 * type `sandboxWorkflow` with berth's search attributes are started on a queue no worker polls
 * (visibility rows only: no containers), then, alternating, the full list-and-sum the quota did
 * on every create (1000 per page) and the one CountWorkflowExecutions it does now.
 *
 *   node --import tsx bench/tools/quota-visibility.ts [--live 1000] [--reps 30]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { decodeTypedSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes.js';
import { startTemporalDevServer } from '../../src/dev/temporal-dev-server.js';
import { sandboxVisibilityQuery } from '../../src/service/visibility-query.js';
import { SearchAttr } from '../../src/workflows/definitions.js';
import { summarize } from '../lib/stats.js';

const { values } = parseArgs({ options: { live: { type: 'string', default: '1000' }, reps: { type: 'string', default: '30' } } });
const live = Number(values.live);
const reps = Number(values.reps);
const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-quota-vis-'));
const server = await startTemporalDevServer({ logFile: path.join(dir, 'temporal.log'), dbFile: path.join(dir, 'temporal.db') });
const connection = await Connection.connect({ address: server.address });
const client = new Client({ connection });
const owner = `quota-${randomBytes(3).toString('hex')}`;
const queue = `quota-vis-${randomBytes(3).toString('hex')}`;
try {
  for (let i = 0; i < live; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, live - i) }, (_, k) =>
        client.workflow.start('sandboxWorkflow', {
          workflowId: `sandbox-qv${i + k}-${owner}`,
          taskQueue: queue,
          typedSearchAttributes: [
            { key: SearchAttr.state, value: 'running' },
            { key: SearchAttr.owner, value: owner },
            { key: SearchAttr.cpu, value: 0.5 },
            { key: SearchAttr.memoryMB, value: 64 },
          ],
        }),
      ),
    );
  }
  const query = sandboxVisibilityQuery({ owner, excludeSandboxIDs: ['inflight1', 'inflight2', 'inflight3', 'inflight4'] });
  const count = async () => Number((await client.workflowService.countWorkflowExecutions({ namespace: 'default', query })).count ?? 0);
  while ((await count()) < live) await new Promise((r) => setTimeout(r, 200));
  const listAndSum = async () => {
    let n = 0;
    let cpu = 0;
    let nextPageToken: Uint8Array | undefined;
    do {
      const page = await client.workflowService.listWorkflowExecutions({ namespace: 'default', pageSize: 1000, query, nextPageToken });
      for (const e of page.executions ?? []) {
        n++;
        cpu += decodeTypedSearchAttributes(e.searchAttributes?.indexedFields).get(SearchAttr.cpu) ?? 0;
      }
      nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
    } while (nextPageToken);
    return n + cpu * 0;
  };
  const times = { list: [] as number[], count: [] as number[] };
  for (let r = 0; r < reps; r++) {
    for (const [name, fn] of r % 2 ? ([['count', count], ['list', listAndSum]] as const) : ([['list', listAndSum], ['count', count]] as const)) {
      const t0 = performance.now();
      const n = await fn();
      times[name].push(performance.now() - t0);
      if (n !== live) throw new Error(`${name} saw ${n} of ${live}`);
    }
  }
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  for (const [name, t] of Object.entries(times)) console.log(`${name} at ${live} live: ${JSON.stringify(summarize(t))} (load ${load})`);
} finally {
  await connection.close();
  await server.stop();
}
