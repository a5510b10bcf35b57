/**
 * Large file transfers to berth's API with the same HTTP client the raw floor uses (dockerode
 * speaks `node:http`): the body written from one Buffer, the answer counted as it streams
 * (the floor's getArchive is counted the same way). `fetch` (undici, web streams) costs the
 * client itself 2× the CPU of `node:http` for 100 MB (docs/benchmarks/README.md, Session 5:
 * files), which would be charged to berth and not to the floor.
 */
import http from 'node:http';

const agent = new http.Agent({ keepAlive: true });

export interface TransferResult {
  status: number;
  /** Bytes of the answer's body. */
  bytes: number;
  /** The body as text when it is small (JSON answers, errors). */
  text: string;
}

/** `method` `url` with `body` (raw octets) and `headers`; counts the answer's bytes without keeping them. */
export function transfer(method: string, url: string, headers: Record<string, string>, body?: Buffer): Promise<TransferResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, headers: { ...headers, ...(body ? { 'content-type': 'application/octet-stream', 'content-length': String(body.length) } : {}) } }, (res) => {
      let bytes = 0;
      const small: Buffer[] = [];
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes <= 64 * 1024) small.push(chunk);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, text: bytes <= 64 * 1024 ? Buffer.concat(small).toString('utf8') : '' }));
      res.on('error', reject);
    });
    req.setTimeout(300_000, () => req.destroy(new Error('transfer timed out after 300 s')));
    req.on('error', reject);
    req.end(body);
  });
}
