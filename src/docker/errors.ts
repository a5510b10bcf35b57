/**
 * The one place that decodes the Docker engine's errors. dockerode throws errors carrying the
 * engine's HTTP status (`statusCode`) and message (`json.message`); {@link dockerFailure} turns
 * them into a named failure through one table, and {@link dataPlaneError} maps a failure of a
 * call about a sandbox's container to berth's errors (what a front door answers).
 */
import { ConflictError, ContainerMissingError, InvalidArgumentError, NotFoundError, UnavailableError } from '../errors.js';

/** The engine's HTTP status, when the error came from the engine. */
export function dockerStatus(err: unknown): number | undefined {
  if (typeof err === 'object' && err !== null && 'statusCode' in err) {
    const status = (err as { statusCode?: unknown }).statusCode;
    return typeof status === 'number' ? status : undefined;
  }
  return undefined;
}

/** The engine's own message (`json.message`) when present. */
export function dockerMessage(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const json = (err as { json?: { message?: unknown } }).json;
    if (json && typeof json.message === 'string') return json.message;
    if (err instanceof Error) return err.message;
  }
  return String(err);
}

/** What went wrong, by name. */
export type DockerFailure =
  | 'engine-unreachable'
  | 'no-such-container'
  | 'no-such-path'
  | 'not-a-directory'
  | 'not-found'
  | 'already-paused'
  | 'not-paused'
  | 'paused'
  | 'removal-in-progress'
  | 'not-running'
  | 'conflict'
  | 'not-modified'
  | 'bad-cwd'
  | 'bad-user'
  | 'other';

interface Rule {
  /** The engine's status; `null` = no status (the engine was not reached). Omitted = any. */
  status?: number | null;
  /** Matched against the engine's message. Omitted = any. */
  message?: RegExp;
  failure: DockerFailure;
}

/** First match wins: the specific messages before the bare statuses. */
const RULES: readonly Rule[] = [
  { status: null, failure: 'engine-unreachable' },
  // Before "no such container": dockerode prefixes every 404 with those words when the engine's
  // JSON is not parsed, also a missing path's "(HTTP code 404) no such container - Could not find the file …".
  { status: 404, message: /could not find the file/i, failure: 'no-such-path' },
  { message: /no such container/i, failure: 'no-such-container' },
  { message: /chdir/i, failure: 'bad-cwd' },
  { message: /not a directory/i, failure: 'not-a-directory' },
  { status: 404, message: /could not find the file|no such file or directory|not found in container/i, failure: 'no-such-path' },
  { status: 404, failure: 'not-found' },
  { status: 304, failure: 'not-modified' },
  { status: 409, message: /already paused/i, failure: 'already-paused' },
  { status: 409, message: /not paused/i, failure: 'not-paused' },
  { status: 409, message: /paused/i, failure: 'paused' },
  { status: 409, message: /already in progress/i, failure: 'removal-in-progress' },
  { status: 409, message: /not running/i, failure: 'not-running' },
  { status: 409, failure: 'conflict' },
  { message: /no such file or directory/i, failure: 'bad-cwd' },
  { message: /unable to find user|no matching entries in passwd/i, failure: 'bad-user' },
];

/** Names a Docker engine error by the table above. */
export function dockerFailure(err: unknown): DockerFailure {
  const status = dockerStatus(err) ?? null;
  const message = dockerMessage(err);
  for (const rule of RULES) {
    if (rule.status !== undefined && rule.status !== status) continue;
    if (rule.message && !rule.message.test(message)) continue;
    return rule.failure;
  }
  return 'other';
}

/**
 * Maps a Docker engine error of a data-plane call on a sandbox's container to berth's errors:
 * a missing or exited container is {@link ContainerMissingError} (the sandbox is being stopped,
 * container_lost), a paused one a 409, an unreachable engine a 503. With `path`, a missing path
 * is a 404 on the path and a file where a directory was needed a 400; with `exec`, a bad `cwd`
 * or `user` is the caller's (400).
 */
export function dataPlaneError(err: unknown, sandboxID: string, context: { path?: string; exec?: boolean } = {}): Error {
  const failure = dockerFailure(err);
  const message = dockerMessage(err);
  switch (failure) {
    case 'engine-unreachable':
      return new UnavailableError(`Docker engine unreachable: ${message}`);
    case 'no-such-container':
      return new ContainerMissingError(sandboxID, `sandbox ${sandboxID} has no container any more; it is being stopped (container_lost)`);
    case 'paused':
    case 'already-paused':
      return new ConflictError(`sandbox ${sandboxID} is paused: resume it first`);
    case 'not-running':
    case 'conflict':
    case 'not-paused':
    case 'removal-in-progress':
      return new ContainerMissingError(sandboxID, `sandbox ${sandboxID} is not running (its container exited); it is being stopped (container_lost)`);
    case 'not-a-directory':
      if (context.path !== undefined) return new InvalidArgumentError(`${context.path} is not a directory (or a parent is a file)`);
      break;
    case 'no-such-path':
    case 'not-found':
      if (context.path !== undefined) return new PathMissingError(`${context.path} does not exist`);
      return new ContainerMissingError(sandboxID, `sandbox ${sandboxID} has no container any more; it is being stopped (container_lost)`);
    case 'bad-cwd':
      if (context.exec) return new InvalidArgumentError(`cwd does not exist in the sandbox: ${message}`);
      break;
    case 'bad-user':
      if (context.exec) return new InvalidArgumentError(`user does not exist in the sandbox: ${message}`);
      break;
  }
  return err instanceof Error ? err : new Error(message);
}

/** A path the archive API did not find (as opposed to a missing container). */
export class PathMissingError extends NotFoundError {}
