/** Request fields shared by everything that starts or signals a process (commands, terminals). */
import { z } from 'zod';
import { SIGNALS } from '../../dataplane/paths.js';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Environment variables for the process. */
export const envsField = z.record(z.string().regex(ENV_NAME, 'env names are letters, digits and _'), z.string()).default({});

/** Absolute working directory. */
export const cwdField = z
  .string()
  // eslint-disable-next-line no-control-regex -- NUL is refused
  .regex(/^[/][^\n\r\x00]*$/, 'must be absolute (start with /) without line breaks or NUL bytes')
  .optional()
  .describe('Absolute working directory; must exist.');

/** The user the process runs as. */
export const userField = z.string().regex(/^[a-zA-Z0-9_][a-zA-Z0-9_.:-]{0,63}$/).optional().describe('User name, uid or uid:gid; image default (root) when omitted.');

/** A signal name, `SIG` prefix optional. */
export const signalNameField = z
  .string()
  .regex(new RegExp(`^(SIG)?(${SIGNALS.join('|')})$`, 'i'), `signal must be one of ${SIGNALS.join(', ')} (SIG prefix optional)`)
  .describe(`One of ${SIGNALS.join(', ')} (SIG prefix optional).`);
