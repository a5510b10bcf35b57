/**
 * Docker's experimental checkpoint API (CRIU, or gVisor's `runsc checkpoint`), which dockerode
 * implements but its types omit. The engine must run with `--experimental`.
 */
import type Docker from 'dockerode';

interface CheckpointCalls {
  createCheckpoint(opts: { CheckpointID: string; Exit?: boolean }): Promise<unknown>;
  listCheckpoint(opts?: Record<string, never>): Promise<Array<{ Name: string }> | null>;
  deleteCheckpoint(checkpoint: string, opts?: Record<string, never>): Promise<unknown>;
}

function calls(container: Docker.Container): CheckpointCalls {
  return container as unknown as CheckpointCalls;
}

/** Checkpoints the container's processes to disk; the container exits (it holds no memory then). */
export async function createCheckpoint(container: Docker.Container, name: string): Promise<void> {
  await calls(container).createCheckpoint({ CheckpointID: name, Exit: true });
}

export async function hasCheckpoint(container: Docker.Container, name: string): Promise<boolean> {
  const list = await calls(container).listCheckpoint();
  return (list ?? []).some((c) => c.Name === name);
}

export async function deleteCheckpoint(container: Docker.Container, name: string): Promise<void> {
  await calls(container).deleteCheckpoint(name);
}

/** Starts a stopped container from a checkpoint: its processes go on where they were. */
export async function startFromCheckpoint(container: Docker.Container, name: string): Promise<void> {
  // The checkpoint goes in the query only: the engine refuses a start with a body (dockerode
  // would send its options as both, unless `_query` and an empty `_body` are given).
  await container.start({ _query: { checkpoint: name }, _body: {} } as unknown as Docker.ContainerStartOptions);
}
