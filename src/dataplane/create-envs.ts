/**
 * The env vars a sandbox was created with, looked up per sandbox (src/service/create-envs.ts).
 * Commands and terminals put them under their own envs on every exec, so a sandbox claimed
 * from the warm pool (its container started before the create) sees them like any other.
 */
export type CreateEnvLookup = (sandboxID: string) => Promise<Record<string, string>>;

/** No lookup (unit tests, tools): execs carry only their own envs. */
export const NO_CREATE_ENVS: CreateEnvLookup = () => Promise.resolve({});
