/** `sbx.files`: read, write, list, stat, mkdir, remove, move, chmod, search, replace. */
import type { RequestOptions } from './connection.js';
import { NotFoundError } from './errors.js';
import type { Transport } from './transport.js';
import type { EntryInfo, EntryList } from './types.js';

/** Ownership and permissions applied by a write, mkdir or chmod. */
export interface FileAttributes {
  /** Octal permissions, e.g. `"644"` or `0o644`. */
  mode?: string | number;
  /** User name or uid. */
  owner?: string;
  /** Group name or gid. */
  group?: string;
}

export type FileData = string | Uint8Array | ArrayBuffer | Blob | ReadableStream<Uint8Array>;

export interface ReadOpts extends RequestOptions {
  /** `text` (UTF-8, default), `bytes` (Uint8Array) or `stream` (ReadableStream, not buffered). */
  format?: 'text' | 'bytes' | 'stream';
}

/** A file being downloaded: its size and the byte stream. */
export interface FileDownload {
  size: number;
  stream: ReadableStream<Uint8Array>;
}

function modeText(mode: string | number | undefined): string | undefined {
  if (mode === undefined) return undefined;
  return typeof mode === 'number' ? mode.toString(8) : mode;
}

function attrs(a: FileAttributes): Record<string, string> {
  const mode = modeText(a.mode);
  return { ...(mode !== undefined ? { mode } : {}), ...(a.owner !== undefined ? { owner: a.owner } : {}), ...(a.group !== undefined ? { group: a.group } : {}) };
}

function reqOpts(opts: RequestOptions): RequestOptions {
  return { ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.requestTimeoutMs !== undefined ? { requestTimeoutMs: opts.requestTimeoutMs } : {}) };
}

/** Files of one sandbox. Paths are absolute paths inside the sandbox. */
export class Files {
  constructor(
    private readonly sandboxID: string,
    private readonly transport: Transport,
  ) {}

  private path(suffix = ''): string {
    return `/sandboxes/${encodeURIComponent(this.sandboxID)}/files${suffix}`;
  }

  /** Reads a file: text by default, or bytes, or a stream. */
  read(path: string, opts?: ReadOpts & { format?: 'text' }): Promise<string>;
  read(path: string, opts: ReadOpts & { format: 'bytes' }): Promise<Uint8Array>;
  read(path: string, opts: ReadOpts & { format: 'stream' }): Promise<ReadableStream<Uint8Array>>;
  async read(path: string, opts: ReadOpts = {}): Promise<string | Uint8Array | ReadableStream<Uint8Array>> {
    if (opts.format === 'stream') return (await this.download(path, opts)).stream;
    const response = await this.transport.send('GET', this.path(), { ...reqOpts(opts), query: { path } });
    const bytes = new Uint8Array(await response.arrayBuffer());
    return opts.format === 'bytes' ? bytes : new TextDecoder().decode(bytes);
  }

  /** Opens a file for streaming download; `size` comes from `Content-Length`. */
  async download(path: string, opts: RequestOptions = {}): Promise<FileDownload> {
    const response = await this.transport.send('GET', this.path(), { ...reqOpts(opts), query: { path }, stream: true });
    if (!response.body) throw new NotFoundError(`no content for ${path}`);
    return { size: Number(response.headers.get('content-length') ?? 0), stream: response.body };
  }

  /**
   * Writes a file (parents created; replaced only once complete). A stream is sent as it is
   * read, never buffered, not retried, and has no request timeout unless `requestTimeoutMs` is given.
   */
  async write(path: string, data: FileData, opts: FileAttributes & RequestOptions = {}): Promise<EntryInfo> {
    const raw = data instanceof ArrayBuffer ? new Uint8Array(data) : data;
    // A stream takes as long as its source: no request timeout unless one is asked for.
    const requestTimeoutMs = opts.requestTimeoutMs ?? (raw instanceof ReadableStream ? 0 : undefined);
    return this.transport.json<EntryInfo>('PUT', this.path(), {
      ...reqOpts(opts),
      ...(requestTimeoutMs !== undefined ? { requestTimeoutMs } : {}),
      query: { path, ...attrs(opts) },
      raw,
    });
  }

  /** Writes many small files in one call (JSON, 1 MB in total). */
  async writeFiles(files: Array<{ path: string; data: string | Uint8Array } & FileAttributes>, opts: RequestOptions = {}): Promise<EntryInfo[]> {
    const body = {
      files: files.map((f) => ({
        path: f.path,
        ...(typeof f.data === 'string' ? { content: f.data } : { content: Buffer.from(f.data).toString('base64'), encoding: 'base64' }),
        ...attrs(f),
      })),
    };
    return (await this.transport.json<{ files: EntryInfo[] }>('POST', this.path('/batch'), { ...reqOpts(opts), json: body })).files;
  }

  /** One entry; throws {@link NotFoundError} when missing. */
  stat(path: string, opts: RequestOptions = {}): Promise<EntryInfo> {
    return this.transport.json<EntryInfo>('GET', this.path('/stat'), { ...reqOpts(opts), query: { path } });
  }

  /** Entries of many paths at once (`null` for a missing one). */
  async statMany(paths: string[], opts: RequestOptions = {}): Promise<Record<string, EntryInfo | null>> {
    return (await this.transport.json<{ entries: Record<string, EntryInfo | null> }>('POST', this.path('/stat'), { ...reqOpts(opts), json: { paths } })).entries;
  }

  /** Whether a path exists. */
  async exists(path: string, opts: RequestOptions = {}): Promise<boolean> {
    return (await this.statMany([path], opts))[path] != null;
  }

  /** Entries under a folder, `depth` levels deep (1 = children, the default; at most 64). */
  list(path: string, opts: RequestOptions & { depth?: number } = {}): Promise<EntryList> {
    return this.transport.json<EntryList>('GET', this.path('/list'), { ...reqOpts(opts), query: { path, depth: opts.depth } });
  }

  /** Entries under `path` whose name matches a glob (`*.py`). */
  search(path: string, pattern: string, opts: RequestOptions & { depth?: number } = {}): Promise<EntryList> {
    return this.transport.json<EntryList>('GET', this.path('/search'), { ...reqOpts(opts), query: { path, pattern, depth: opts.depth } });
  }

  /** `mkdir -p`; returns the folder. */
  mkdir(path: string, opts: FileAttributes & RequestOptions = {}): Promise<EntryInfo> {
    return this.transport.json<EntryInfo>('POST', this.path('/mkdir'), { ...reqOpts(opts), json: { path, ...attrs(opts) } });
  }

  /** Deletes a file or an empty folder (`recursive` for a non-empty one). */
  async remove(path: string, opts: RequestOptions & { recursive?: boolean } = {}): Promise<void> {
    await this.transport.json<undefined>('DELETE', this.path(), { ...reqOpts(opts), query: { path, recursive: opts.recursive ? 'true' : undefined } });
  }

  /** Moves or renames; {@link ConflictError} when the destination exists unless `overwrite`. */
  move(source: string, destination: string, opts: RequestOptions & { overwrite?: boolean } = {}): Promise<EntryInfo> {
    return this.transport.json<EntryInfo>('POST', this.path('/move'), { ...reqOpts(opts), json: { source, destination, overwrite: opts.overwrite ?? false } });
  }

  /** Sets permissions and/or ownership. */
  chmod(path: string, opts: FileAttributes & RequestOptions & { recursive?: boolean }): Promise<EntryInfo> {
    return this.transport.json<EntryInfo>('POST', this.path('/chmod'), {
      ...reqOpts(opts),
      json: { path, ...attrs(opts), recursive: opts.recursive ?? false },
    });
  }

  /** Replaces literal text (all occurrences unless `all: false`) in a UTF-8 file. */
  replace(path: string, oldText: string, newText: string, opts: RequestOptions & { all?: boolean } = {}): Promise<{ replacements: number; entry: EntryInfo }> {
    return this.transport.json('POST', this.path('/replace'), { ...reqOpts(opts), json: { path, old: oldText, new: newText, all: opts.all ?? true } });
  }
}
