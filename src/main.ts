import cluster from 'node:cluster';
import { inspect } from 'node:util';
import type { Logger } from 'pino';
import { runPrimary, WORKER_READY } from './cluster/primary.js';
import { type Config, ConfigError, loadConfig, loadDotEnv } from './config/config.js';
import { createLogger, routeConsoleTo } from './http/logger.js';

// A failure an operator can act on is one line on stderr (and exit status 78 for configuration, 1
// otherwise); the log, on stdout, keeps the detail. stdout carries JSON log lines only.
let config: Config;
try {
  loadDotEnv();
  config = loadConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`tollgate: ${err.message}\n`);
  process.exit(78); // EX_CONFIG
}

const log = createLogger(config.logLevel);
// Before the server's modules load: oidc-provider prints notices with console as it is imported.
routeConsoleTo(log);
if (config.webConcurrency > 1 && cluster.isPrimary) {
  await runPrimary(config, log);
} else {
  await serve(cluster.isWorker ? log.child({ worker: cluster.worker!.id }) : log);
}

async function serve(log: Logger): Promise<void> {
  const { startServer, StartupError } = await import('./server.js');
  let running: Awaited<ReturnType<typeof startServer>> | undefined;
  let stopping = false;
  // Handled from the start: a signal during start-up ends the process through exit, which writes the
  // log's pending lines (those that say what start-up was waiting for), as a default signal death would not.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      // A second signal while shutting down means "now".
      if (stopping) process.exit(1);
      stopping = true;
      if (!running) {
        log.info({ signal }, 'stopped during start-up');
        process.exit(1);
      }
      log.info({ signal }, 'shutting down');
      // Past the in-flight wait (SHUTDOWN_TIMEOUT_SECONDS), the audit flush and the database close get a little more.
      const force = setTimeout(
        () => {
          log.error('shutdown did not finish in time');
          process.exit(1);
        },
        (config!.shutdownTimeoutSeconds + 10) * 1000,
      ).unref();
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
  running = await startServer(config!, log).catch((err: unknown) => {
    log.fatal({ err }, 'start-up failed');
    // Not every rejection is an Error: a bare object is shown as one, never as "[object Object]".
    const detail = err instanceof Error ? err.message : inspect(err, { breakLength: Infinity });
    const line = err instanceof StartupError ? err.message : `start-up failed: ${detail.split('\n')[0]} (details in the log)`;
    process.stderr.write(`tollgate: ${line}\n`);
    process.exit(1);
  });
  if (cluster.isWorker) process.send!(WORKER_READY);
}
