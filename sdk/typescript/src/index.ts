/** berth's TypeScript SDK. */
export { Sandbox, type SandboxCreateOpts, type SandboxConnectOpts } from './sandbox.js';
export { Volume, type VolumeCreateOpts } from './volume.js';
export { SandboxPaginator, type SandboxListQuery } from './paginator.js';
export { Commands, CommandHandle, type CommandRunOpts, type CommandResult, type OutputCallback } from './commands.js';
export { Pty, PtyHandle, type PtyInfo, type PtySize, type PtyCreateOpts, type PtyConnectOpts, type PtySignalTarget } from './pty.js';
export { Files, type FileAttributes, type FileData, type FileDownload, type ReadOpts } from './files.js';
export { ConnectionConfig, DEFAULT_API_URL, type ConnectionOptions, type RequestOptions } from './connection.js';
export {
  BerthError,
  InvalidArgumentError,
  UnauthorizedError,
  NotFoundError,
  ConflictError,
  RateLimitedError,
  UnavailableError,
  TimeoutError,
  AbortedError,
  CommandExitError,
  ERROR_BY_STATUS,
  errorFromResponse,
} from './errors.js';
export type * from './types.js';
