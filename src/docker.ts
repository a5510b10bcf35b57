import http from 'node:http';
import Docker from 'dockerode';

/**
 * A dockerode client with keep-alive connections to the engine's socket, so that each
 * Docker call does not pay for a new connection.
 */
export function createDockerClient(socketPath: string): Docker {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  return new Docker({ socketPath, agent } as Docker.DockerOptions);
}
