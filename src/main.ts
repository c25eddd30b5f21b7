import cluster from 'node:cluster';
import type { Logger } from 'pino';
import { runPrimary } from './cluster/primary.js';
import { ConfigError, loadConfig, loadDotEnv } from './config/config.js';
import { createLogger } from './http/logger.js';
import { startServer } from './server.js';

let config;
try {
  loadDotEnv();
  config = loadConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(`tollgate: ${err.message}`);
  process.exit(78); // EX_CONFIG
}

const log = createLogger(config.logLevel);
if (config.webConcurrency > 1 && cluster.isPrimary) {
  runPrimary(config, log);
} else {
  await serve(cluster.isWorker ? log.child({ worker: cluster.worker!.id }) : log);
}

async function serve(log: Logger): Promise<void> {
  const running = await startServer(config!, log).catch((err: unknown) => {
    log.fatal({ err }, 'start-up failed');
    process.exit(1);
  });

  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      // A second signal while shutting down means "now".
      if (stopping) process.exit(1);
      stopping = true;
      log.info({ signal }, 'shutting down');
      // Past the in-flight wait (SHUTDOWN_TIMEOUT_SECONDS), the audit flush and the database close get a little more.
      const force = setTimeout(() => {
        log.error('shutdown did not finish in time');
        process.exit(1);
      }, (config!.shutdownTimeoutSeconds + 10) * 1000).unref();
      running.close().then(
        () => {
          clearTimeout(force);
          process.exit(0);
        },
        (err: unknown) => {
          log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
}
