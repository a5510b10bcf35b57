/**
 * docker pause / unpause for the pause and resume activities, on the fast path: the engine
 * call comes first and an inspect follows only when the engine refuses, to tell "already
 * done" from "the container is gone or has exited". The common case costs one engine round
 * trip, the same as `docker pause`; an inspect first cost one more on every call.
 */
import type Docker from 'dockerode';
import { dockerFailure, dockerStatus } from '../docker/errors.js';

/** `done`: the container is now paused (or running, for a thaw); otherwise why it cannot be. */
export type FreezeOutcome = { kind: 'done' } | { kind: 'missing' } | { kind: 'exited'; status: string };

async function stateOf(docker: Docker, sandboxID: string): Promise<Docker.ContainerInspectInfo['State'] | null> {
  try {
    return (await docker.getContainer(sandboxID).inspect()).State;
  } catch (err) {
    if (dockerStatus(err) === 404) return null;
    throw err;
  }
}

/** Freezes the container's processes; a container that is paused already counts as done. */
export async function freezeContainer(docker: Docker, sandboxID: string): Promise<FreezeOutcome> {
  try {
    await docker.getContainer(sandboxID).pause();
    return { kind: 'done' };
  } catch (err) {
    if (dockerStatus(err) === 404) return { kind: 'missing' };
    if (dockerFailure(err) === 'already-paused') return { kind: 'done' };
    const state = await stateOf(docker, sandboxID);
    if (!state) return { kind: 'missing' };
    if (state.Paused) return { kind: 'done' };
    // Its processes ended (killed from outside, OOM, the engine restarted): nothing to keep.
    if (!state.Running) return { kind: 'exited', status: state.Status };
    throw err;
  }
}

/** Thaws the container; a running (not paused) container counts as done. */
export async function thawContainer(docker: Docker, sandboxID: string): Promise<FreezeOutcome> {
  try {
    await docker.getContainer(sandboxID).unpause();
    return { kind: 'done' };
  } catch (err) {
    if (dockerStatus(err) === 404) return { kind: 'missing' };
    // "not paused" is also what an exited container answers: ask which.
    const state = await stateOf(docker, sandboxID);
    if (!state) return { kind: 'missing' };
    if (!state.Running) return { kind: 'exited', status: state.Status };
    if (!state.Paused) return { kind: 'done' };
    throw err;
  }
}
