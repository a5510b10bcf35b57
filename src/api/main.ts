/** The API server entry point (`npm run api`). */
import { loadConfig } from '../config.js';
import { createDockerClient } from '../docker/client.js';
import { createLogger } from '../logger.js';
import { connectTemporalClient } from '../temporal/client.js';
import { createApp } from './app.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, 'berth-api');
  const client = await connectTemporalClient(config);
  const berth = createApp({ config, client, docker: createDockerClient(config.dockerSocket), logger });
  const server = berth.app.listen(config.api.port, config.api.host, () => {
    logger.info({ url: `http://${config.api.host}:${config.api.port}` }, 'API listening');
  });
  // E2B's envd on its own port (49983 by default: agentbox's debug mode hardcodes it).
  const envdServer =
    config.e2bEnvd.port > 0
      ? berth.envd.app
          .listen(config.e2bEnvd.port, config.api.host, () => {
            logger.info({ url: `http://${config.api.host}:${config.e2bEnvd.port}` }, 'E2B envd listening');
          })
          .on('error', (err) => {
            logger.fatal({ err }, `E2B envd cannot listen on ${config.api.host}:${config.e2bEnvd.port}: choose another BERTH_E2B_ENVD_PORT (0 = not served)`);
            process.exit(1);
          })
      : undefined;
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'API shutting down');
    // Requests in flight may finish (up to 5 s; idle keep-alive connections close now), then
    // pending touches go out before the Temporal connection closes: none is dropped.
    let finishing: Promise<void> | undefined;
    const finish = () =>
      (finishing ??= berth
        .close()
        .catch((err: unknown) => logger.warn({ err }, 'delivering pending touches failed'))
        .finally(() => void client.connection.close().finally(() => process.exit(0))));
    envdServer?.close();
    envdServer?.closeAllConnections();
    server.close(() => void finish());
    server.closeIdleConnections();
    setTimeout(() => void finish(), 5000).unref();
    setTimeout(() => process.exit(0), 10_000).unref();
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
