/** `Volume`: named volumes of yours (create, list, get, destroy); mount them with `Sandbox.create({ volumes })`. */
import { ConnectionConfig, type ConnectionOptions, type RequestOptions } from './connection.js';
import { NotFoundError } from './errors.js';
import { Transport } from './transport.js';
import type { CreateVolumeBody, VolumeInfo, VolumeList } from './types.js';

/** Options of {@link Volume.create}. */
export interface VolumeCreateOpts extends ConnectionOptions, RequestOptions {
  /** The size you expect; recorded, not enforced (see docs/volumes.md). */
  sizeMB?: number;
}

type CallOpts = ConnectionOptions & RequestOptions;

function requestOpts(opts: RequestOptions): RequestOptions {
  return { ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.requestTimeoutMs !== undefined ? { requestTimeoutMs: opts.requestTimeoutMs } : {}) };
}

const path = (name: string) => `/volumes/${encodeURIComponent(name)}`;

/** Static calls on your volumes. A volume outlives every sandbox that mounts it. */
export class Volume {
  private constructor() {}

  /** Creates a volume; {@link ConflictError} when the name exists, {@link RateLimitedError} past the server's per-owner cap. */
  static create(name: string, opts: VolumeCreateOpts = {}): Promise<VolumeInfo> {
    const body: CreateVolumeBody = { name, ...(opts.sizeMB !== undefined ? { sizeMB: opts.sizeMB } : {}) };
    return new Transport(new ConnectionConfig(opts)).json<VolumeInfo>('POST', '/volumes', { ...requestOpts(opts), json: body });
  }

  /** Your volumes, by name, with how many sandboxes mount each now. */
  static async list(opts: CallOpts = {}): Promise<VolumeInfo[]> {
    return (await new Transport(new ConnectionConfig(opts)).json<VolumeList>('GET', '/volumes', requestOpts(opts))).volumes;
  }

  /** One volume; {@link NotFoundError} when it does not exist or is not yours. */
  static getInfo(name: string, opts: CallOpts = {}): Promise<VolumeInfo> {
    return new Transport(new ConnectionConfig(opts)).json<VolumeInfo>('GET', path(name), requestOpts(opts));
  }

  /** Deletes a volume and its data; false when it did not exist; {@link ConflictError} while a sandbox mounts it. */
  static async destroy(name: string, opts: CallOpts = {}): Promise<boolean> {
    try {
      await new Transport(new ConnectionConfig(opts)).json<undefined>('DELETE', path(name), requestOpts(opts));
      return true;
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      throw err;
    }
  }
}
