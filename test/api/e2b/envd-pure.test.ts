/** Pure parts of berth's envd: Connect framing and errors, access tokens, multipart, watch diffs, entry shapes. */
import type { Request } from 'express';
import { describe, expect, it } from 'vitest';
import { envdAccessToken, ownerOfEnvdAccessToken, verifyEnvdAccessToken } from '../../../src/api/e2b/access-token.js';
import { namedSandbox, resolveCaller, sandboxUser } from '../../../src/api/e2b/envd/access.js';
import { ConnectError, envelope, parseEnvelopes, toConnectError } from '../../../src/api/e2b/envd/connect.js';
import { entryMessage, permissionsText } from '../../../src/api/e2b/envd/entry.js';
import { resolvePath } from '../../../src/api/e2b/envd/messages.js';
import { boundaryOf, parseMultipart } from '../../../src/api/e2b/envd/multipart.js';
import { diffSnapshots, parseSnapshot } from '../../../src/dataplane/watch.js';
import { ConflictError, InvalidArgumentError, NotFoundError, PayloadTooLargeError, UnavailableError } from '../../../src/errors.js';

const SECRET = 'ab'.repeat(32);

function fakeReq(headers: Record<string, string>, hostname = '127.0.0.1'): Request {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { get: (name: string) => lower[name.toLowerCase()], hostname } as unknown as Request;
}

describe('Connect framing', () => {
  it('round-trips envelopes and refuses truncated or compressed ones', () => {
    const body = Buffer.concat([envelope(0, Buffer.from('{"a":1}')), envelope(2, Buffer.from('{}'))]);
    expect(parseEnvelopes(body).map((e) => [e.flags, e.payload.toString()])).toEqual([
      [0, '{"a":1}'],
      [2, '{}'],
    ]);
    expect(() => parseEnvelopes(body.subarray(0, 9))).toThrow(/truncated/);
    expect(() => parseEnvelopes(envelope(1, Buffer.from('x')))).toThrow(/compressed/);
  });

  it('maps berth errors to Connect codes; unknown errors become internal with a generic message', () => {
    expect(toConnectError(new NotFoundError('gone')).code).toBe('not_found');
    expect(toConnectError(new InvalidArgumentError('bad')).code).toBe('invalid_argument');
    expect(toConnectError(new ConflictError('x already exists')).code).toBe('already_exists');
    expect(toConnectError(new ConflictError('sandbox s is paused: resume it first')).code).toBe('failed_precondition');
    expect(toConnectError(new PayloadTooLargeError('big')).code).toBe('resource_exhausted');
    expect(toConnectError(new UnavailableError('docker down')).code).toBe('unavailable');
    const internal = toConnectError(new Error('secret detail'));
    expect(internal.code).toBe('internal');
    expect(internal.message).not.toContain('secret detail');
    const own = new ConnectError('deadline_exceeded', 'late');
    expect(toConnectError(own)).toBe(own);
  });
});

describe('envd access', () => {
  it('tokens name their sandbox and owner; tampering or another key fails', () => {
    const token = envdAccessToken(SECRET, 'abc123', 'alice');
    expect(verifyEnvdAccessToken(SECRET, token)).toEqual({ sandboxID: 'abc123', owner: 'alice' });
    expect(ownerOfEnvdAccessToken(SECRET, 'abc123', token)).toBe('alice');
    expect(ownerOfEnvdAccessToken(SECRET, 'other1', token)).toBeNull();
    expect(verifyEnvdAccessToken('cd'.repeat(32), token)).toBeNull();
    const [id, , sig] = token.split('.');
    expect(verifyEnvdAccessToken(SECRET, `${id}.${Buffer.from('mallory').toString('base64url')}.${sig}`)).toBeNull();
    expect(verifyEnvdAccessToken(SECRET, 'garbage')).toBeNull();
  });

  it('finds the sandbox by header (also <id>-<clientID>), then by host name; reads the Basic user', () => {
    expect(namedSandbox(fakeReq({ 'E2b-Sandbox-Id': 'abc123' }))).toBe('abc123');
    expect(namedSandbox(fakeReq({ 'E2b-Sandbox-Id': 'abc123-berth' }))).toBe('abc123');
    expect(namedSandbox(fakeReq({ 'E2b-Sandbox-Id': 'abc123, abc123' }))).toBe('abc123');
    expect(namedSandbox(fakeReq({}, '49983-abc123-berth.localhost'))).toBe('abc123');
    expect(namedSandbox(fakeReq({}, 'localhost'))).toBeUndefined();
    expect(() => namedSandbox(fakeReq({ 'E2b-Sandbox-Id': '../etc' }))).toThrow(ConnectError);
    expect(sandboxUser(fakeReq({ authorization: `Basic ${Buffer.from('root:').toString('base64')}` }))).toBe('root');
    expect(sandboxUser(fakeReq({}))).toBe('user');
    expect(() => sandboxUser(fakeReq({ authorization: `Basic ${Buffer.from('a b:').toString('base64')}` }))).toThrow(ConnectError);
  });

  it('a token for one sandbox cannot be used with another sandbox header', () => {
    const deps = { secretKeyHex: SECRET, ownerOfKey: (k: string) => (k === 'key-1' ? 'bob' : undefined) };
    const token = envdAccessToken(SECRET, 'abc123', 'alice');
    expect(resolveCaller(fakeReq({ 'x-access-token': token }), deps)).toEqual({ owner: 'alice', sandboxID: 'abc123', user: 'user' });
    expect(() => resolveCaller(fakeReq({ 'x-access-token': token, 'e2b-sandbox-id': 'zzz999' }), deps)).toThrow(/another sandbox/);
    expect(resolveCaller(fakeReq({ 'x-api-key': 'key-1', 'e2b-sandbox-id': 'zzz999' }), deps)).toEqual({ owner: 'bob', sandboxID: 'zzz999', user: 'user' });
    expect(() => resolveCaller(fakeReq({ 'x-api-key': 'key-1' }), deps)).toThrow(/E2b-Sandbox-Id/);
    expect(() => resolveCaller(fakeReq({}), deps)).toThrow(/missing credentials/);
  });
});

describe('paths, entries, multipart', () => {
  it('resolves relative paths and ~ against the user\'s home', () => {
    expect(resolvePath('a/b.txt', 'user')).toBe('/home/user/a/b.txt');
    expect(resolvePath('~/x', 'root')).toBe('/root/x');
    expect(resolvePath('/tmp/../etc/./hosts', 'user')).toBe('/etc/hosts');
    expect(() => resolvePath('/a\nb', 'user')).toThrow(ConnectError);
  });

  it('shapes entries like envd, and strictly (name, type, path) for agentbox', () => {
    const entry = { path: '/home/user/d', name: 'd', type: 'dir' as const, size: 4096, mode: '755', uid: 1000, gid: 1000, owner: 'user', group: 'user', modifiedAt: '2026-01-01T00:00:00.000Z' };
    expect(permissionsText(entry)).toBe('drwxr-xr-x');
    expect(entryMessage(entry, true)).toEqual({ name: 'd', type: 'FILE_TYPE_DIRECTORY', path: '/home/user/d' });
    expect(entryMessage(entry, false)).toMatchObject({ mode: 0o755, permissions: 'drwxr-xr-x', owner: 'user', modifiedTime: '2026-01-01T00:00:00.000Z', size: 4096 });
  });

  it('parses multipart bodies (binary-safe) and refuses malformed ones', () => {
    const b = 'XyZ';
    const body = Buffer.concat([
      Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="file"; filename="/tmp/a.txt"\r\nContent-Type: application/octet-stream\r\n\r\n`),
      Buffer.from([0, 13, 10, 45, 45, 255]),
      Buffer.from(`\r\n--${b}\r\nContent-Disposition: form-data; name="file"; filename="rel/b"\r\n\r\nhello\r\n--${b}--\r\n`),
    ]);
    const parts = parseMultipart(body, boundaryOf(`multipart/form-data; boundary=${b}`));
    expect(parts.map((p) => [p.name, p.filename])).toEqual([
      ['file', '/tmp/a.txt'],
      ['file', 'rel/b'],
    ]);
    expect(parts[0]!.data).toEqual(Buffer.from([0, 13, 10, 45, 45, 255]));
    expect(parts[1]!.data.toString()).toBe('hello');
    expect(() => parseMultipart(Buffer.from('nothing'), b)).toThrow(ConnectError);
    expect(() => boundaryOf('multipart/form-data')).toThrow(/boundary/);
  });
});

describe('watch snapshots', () => {
  it('diffs create, write, chmod and remove relative to the root', () => {
    const before = parseSnapshot(['t1|c1|3|81a4|/w/a', 't1|c1|4096|41ed|/w/d', 't1|c1|1|81a4|/w/gone', 't1|c1|1|81a4|/w/same'].join('\n'));
    const after = parseSnapshot(['t2|c2|5|81a4|/w/a', 't1|c1|4096|41ed|/w/d', 't1|c1|0|81a4|/w/d/new', 't1|c2|1|81ed|/w/same'].join('\n'));
    expect(diffSnapshots('/w', before, after)).toEqual([
      { name: 'a', type: 'write' },
      { name: 'd/new', type: 'create' },
      { name: 'gone', type: 'remove' },
      { name: 'same', type: 'chmod' },
    ]);
    expect(diffSnapshots('/w', after, after)).toEqual([]);
  });
});
