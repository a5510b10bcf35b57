import Docker from 'dockerode';

/**
 * The dockerode client for the engine's socket.
 *
 * No custom keep-alive agent on purpose: docker-modem eagerly runs
 * `util.inspect(options, {showHidden: true, depth: null})` on every request for its debug
 * log, and with an `http.Agent` in the options that walk takes seconds inside a worker
 * (measured: ~2 s per Docker call). A Unix-socket connect costs microseconds anyway.
 */
export function createDockerClient(socketPath: string): Docker {
  return new Docker({ socketPath });
}
