/** `filesystem.Filesystem` (envd) unary calls: Stat, MakeDir, Move, ListDir, Remove, mapped onto berth's FileOps. */
import type { FileOps } from '../../../dataplane/files.js';
import { NotFoundError } from '../../../errors.js';
import { ConnectError } from './connect.js';
import { entryMessage } from './entry.js';
import { asUint, requiredPath } from './messages.js';
import type { EnvdCall } from './call.js';

/** envd lists at most this deep. */
const MAX_DEPTH = 64;

export class FilesystemService {
  constructor(private readonly files: FileOps) {}

  async stat(call: EnvdCall, msg: Record<string, unknown>): Promise<unknown> {
    const path = requiredPath(msg.path, 'path', call.user);
    return { entry: entryMessage(await this.files.info(call.sandboxID, path), call.strict) };
  }

  async makeDir(call: EnvdCall, msg: Record<string, unknown>): Promise<unknown> {
    const path = requiredPath(msg.path, 'path', call.user);
    const existing = (await this.files.stat(call.sandboxID, [path]))[path];
    if (existing) throw new ConnectError('already_exists', `${path} already exists`);
    const entry = await this.files.mkdir(call.sandboxID, path, call.user === 'root' ? {} : { owner: call.user });
    return { entry: entryMessage(entry, call.strict) };
  }

  async move(call: EnvdCall, msg: Record<string, unknown>): Promise<unknown> {
    const source = requiredPath(msg.source, 'source', call.user);
    const destination = requiredPath(msg.destination, 'destination', call.user);
    return { entry: entryMessage(await this.files.move(call.sandboxID, source, destination, true), call.strict) };
  }

  async listDir(call: EnvdCall, msg: Record<string, unknown>): Promise<unknown> {
    const path = requiredPath(msg.path, 'path', call.user);
    const depth = asUint(msg.depth, 'depth') || 1;
    if (depth > MAX_DEPTH) throw new ConnectError('invalid_argument', `depth must be at most ${MAX_DEPTH}`);
    const { entries } = await this.files.list(call.sandboxID, path, depth);
    return { entries: entries.map((e) => entryMessage(e, call.strict)) };
  }

  async remove(call: EnvdCall, msg: Record<string, unknown>): Promise<unknown> {
    const path = requiredPath(msg.path, 'path', call.user);
    try {
      await this.files.remove(call.sandboxID, path, true);
    } catch (err) {
      if (err instanceof NotFoundError) throw new ConnectError('not_found', `${path} does not exist`);
      throw err;
    }
    return {};
  }
}
