/** Loads the real `e2b` npm package from where scripts/lib/ensure-e2b-clients.sh installed it. */
import { createRequire } from 'node:module';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the package is not a dependency of berth: untyped here
export function loadE2B(): any {
  const dir = process.env.BERTH_E2B_JS_DIR;
  if (!dir) throw new Error('BERTH_E2B_JS_DIR is not set (source .berth/setup.env)');
  return createRequire(`${dir}/`)('e2b');
}
