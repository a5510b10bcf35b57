/**
 * What every WebSocket-upgrade listener of the front doors shares: a failed upgrade is answered
 * on the raw socket (a status line and a JSON body in the door's error shape), a sandbox whose
 * container is missing is reported to the gate, and an unexpected error is logged and answered 500.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { BerthError, ContainerMissingError } from '../errors.js';
import type { InteractionGate } from '../service/interaction-gate.js';

/** A door's error body for a failed upgrade. */
export type UpgradeErrorBody = (status: number, code: string, message: string) => object;

const berthErrorBody: UpgradeErrorBody = (_status, code, message) => ({ code, message });

/** Ends the socket with an HTTP error answer. */
export function refuseUpgrade(socket: Duplex, status: number, body: object): void {
  const text = JSON.stringify(body);
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`);
}

export interface UpgradeContext {
  gate: Pick<InteractionGate, 'reportContainerMissing'>;
  logger: Logger;
  /** Named in the log line of an unexpected failure, e.g. "terminal upgrade". */
  what: string;
  /** Fields for that log line. */
  logFields: Record<string, unknown>;
  /** The door's error shape (berth's `{code, message}` when absent). */
  errorBody?: UpgradeErrorBody;
}

/** Runs an upgrade's work; any failure is answered on the socket (never thrown, never unhandled). */
export function serveUpgrade(socket: Duplex, context: UpgradeContext, work: () => Promise<void>): void {
  const body = context.errorBody ?? berthErrorBody;
  socket.on('error', () => socket.destroy());
  work().catch((err: unknown) => {
    if (err instanceof ContainerMissingError) context.gate.reportContainerMissing(err.sandboxID);
    if (err instanceof BerthError) refuseUpgrade(socket, err.status, body(err.status, err.code, err.message));
    else {
      context.logger.error({ err, ...context.logFields }, `${context.what} failed`);
      refuseUpgrade(socket, 500, body(500, 'internal', 'internal error; it was logged'));
    }
  });
}
