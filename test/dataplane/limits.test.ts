import { mkdirSync, mkdtempSync, existsSync, rmSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { StreamSlots } from '../../src/service/stream-slots.js';
import { replaceLiteral } from '../../src/dataplane/replace.js';
import { removeLeftoverSpools, Spooler, SpoolFullError } from '../../src/dataplane/spool.js';
import { loadConfig } from '../../src/config.js';
import { PayloadTooLargeError, QuotaExceededError } from '../../src/errors.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'berth-unit-limits-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('replaceLiteral', () => {
  it('counts UTF-8 bytes of the result before building it', () => {
    expect(replaceLiteral('aéa', 'a', 'é', true, 6)).toEqual({ replacements: 2, updated: 'ééé' });
    expect(() => replaceLiteral('aéa', 'a', 'é', true, 5)).toThrow(PayloadTooLargeError);
    // Only the first occurrence with all=false: the size counts one replacement.
    expect(replaceLiteral('aaaa', 'a', 'bb', false, 5)).toEqual({ replacements: 1, updated: 'bbaaa' });
    expect(replaceLiteral('abc', 'x', 'yyyyyy', true, 3)).toEqual({ replacements: 0, updated: 'abc' });
    // Non-overlapping, like split: "aaa" holds one "aa".
    expect(replaceLiteral('aaa', 'aa', 'b', true, 10)).toEqual({ replacements: 1, updated: 'ba' });
  });
});

describe('StreamSlots', () => {
  it('refuses past the cap, per owner, and frees a slot once (on close or release)', () => {
    const slots = new StreamSlots(2);
    const a = new EventEmitter();
    const b = new EventEmitter();
    const releaseA = slots.hold('alice', 'file upload', a);
    slots.hold('alice', 'file download', b);
    expect(() => slots.hold('alice', 'command stream', new EventEmitter())).toThrow(QuotaExceededError);
    slots.hold('bob', 'command stream', new EventEmitter());
    a.emit('close');
    releaseA(); // already freed by close: no double release
    expect(slots.inUse('alice')).toBe(1);
    b.emit('close');
    expect(slots.inUse('alice')).toBe(0);
  });
});

describe('Spooler', () => {
  it('removes leftovers of dead processes and of an earlier process with its own pid, keeps live ones', () => {
    const root = path.join(tempDir(), 'spool');
    for (const name of ['api-999999999-x', `api-${process.pid}-old`, 'api-1-live', 'other']) mkdirSync(path.join(root, name), { recursive: true });
    expect(removeLeftoverSpools(root)).toBe(2);
    expect(existsSync(path.join(root, 'api-1-live'))).toBe(true);
    expect(existsSync(path.join(root, 'other'))).toBe(true);
  });

  it('claims the budget for spooled bytes and frees it on release or failure', async () => {
    const spooler = new Spooler({ dataDir: tempDir(), budgetBytes: 10 * 1024 * 1024 });
    const big = await spooler.spoolStream(Readable.from([Buffer.alloc(6 * 1024 * 1024)]), undefined);
    expect(spooler.inUseBytes).toBe(6 * 1024 * 1024);
    await expect(spooler.spoolStream(Readable.from([Buffer.alloc(5 * 1024 * 1024)]), 5 * 1024 * 1024)).rejects.toThrow(SpoolFullError);
    await expect(spooler.spoolStream(Readable.from([Buffer.alloc(3 * 1024 * 1024), Buffer.alloc(3 * 1024 * 1024)]), undefined)).rejects.toThrow(SpoolFullError);
    expect(spooler.inUseBytes).toBe(6 * 1024 * 1024);
    await expect(spooler.spoolStream(Readable.from([Buffer.alloc(2048)]), undefined, 1024)).rejects.toThrow(PayloadTooLargeError);
    await big.release();
    expect(spooler.inUseBytes).toBe(0);
    spooler.close();
  });
});

describe('limit configuration', () => {
  const base = { BERTH_API_KEYS: 'sk-12345678:alice', BERTH_SECRET_KEY: 'a'.repeat(64) };
  it('has sane defaults and refuses a spool budget smaller than the largest upload', () => {
    const config = loadConfig(base);
    expect(config.dataPlane).toMatchObject({ maxUploadBytes: 1024 ** 3, spoolBudgetBytes: 4 * 1024 ** 3, maxStreamsPerOwner: 64 });
    expect(config.limits).toMatchObject({ maxCpuPerOwner: 32, maxMemoryMBPerOwner: 65_536 });
    expect(() => loadConfig({ ...base, BERTH_MAX_UPLOAD_BYTES: '2000', BERTH_SPOOL_BUDGET_BYTES: '1000' })).toThrow(/BERTH_SPOOL_BUDGET_BYTES \(1000\) must be at least BERTH_MAX_UPLOAD_BYTES/);
  });
});
