import { pino, type Logger } from 'pino';

/** Creates berth's structured JSON logger. Child loggers carry `sandboxID`. */
export function createLogger(level: string, name: string): Logger {
  return pino({ level, name, base: { service: name }, timestamp: pino.stdTimeFunctions.isoTime });
}

export type { Logger };
