import { Client, Connection } from '@temporalio/client';
import type { BerthConfig } from '../config.js';

/** Connects a Temporal client for the API (and tests). Close `client.connection` when done. */
export async function connectTemporalClient(config: Pick<BerthConfig, 'temporal'>): Promise<Client> {
  const connection = await Connection.connect({ address: config.temporal.address });
  return new Client({ connection, namespace: config.temporal.namespace });
}
