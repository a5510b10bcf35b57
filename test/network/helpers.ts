/** Helpers for network tests: run a shell command in a sandbox, read its address on its network. */
import { expect } from 'vitest';
import type { TestStack } from '../helpers/stack.js';

export async function sh(stack: TestStack, sandboxID: string, cmd: string, as?: string): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const res = await stack.api('POST', `/sandboxes/${sandboxID}/commands`, { body: { cmd, timeout: 60 }, as });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

/** The sandbox's address and gateway on the one network it is attached to. */
export async function addressOf(stack: TestStack, sandboxID: string): Promise<{ ip: string; gateway: string; network: string }> {
  const info = await stack.docker.getContainer(sandboxID).inspect();
  const [network, settings] = Object.entries(info.NetworkSettings.Networks ?? {})[0] ?? [];
  if (!network || !settings?.IPAddress) throw new Error(`sandbox ${sandboxID} has no address`);
  return { ip: settings.IPAddress, gateway: settings.Gateway, network };
}

/**
 * Sends `GET path` to host:port from inside the sandbox (busybox nc, 3 s timeout) and answers
 * the response body, or null when nothing answered (refused, dropped or timed out).
 */
export async function fetchFrom(stack: TestStack, sandboxID: string, host: string, port: number, path = '/', as?: string): Promise<string | null> {
  const r = await sh(stack, sandboxID, `printf 'GET ${path} HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${host} ${port}`, as);
  const split = r.stdout.indexOf('\r\n\r\n');
  return r.stdout.startsWith('HTTP/') && split >= 0 ? r.stdout.slice(split + 4) : null;
}
