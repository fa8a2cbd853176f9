'use strict';
/**
 * Entry point (Procfile: `web: node server.js`, exec'd so SIGTERM reaches Node).
 * Wires config, logger, pool and app together, listens, and shuts down gracefully.
 */
const http = require('node:http');
const { loadConfig } = require('./src/config');
const { createLogger } = require('./src/logger');
const { createPool } = require('./src/db');
const { createApp } = require('./src/app');

const logger = createLogger(process.env.LOG_LEVEL || 'info');

let config;
try {
  config = loadConfig();
} catch (err) {
  logger.fatal({ err }, 'invalid configuration');
  process.exit(2);
}

const pool = createPool(config, logger);
const app = createApp({ config, logger, pool });
const server = http.createServer(app);

server.on('error', (err) => {
  logger.fatal({ err }, 'server error');
  process.exit(1);
});
server.listen(config.port, config.host, () => {
  logger.info({ host: config.host, port: config.port }, `listening on http://${config.host}:${config.port}`);
});

/**
 * Graceful shutdown: stop accepting connections, let in-flight requests finish,
 * close the pool, exit 0. A deadline under Kubernetes' 30 s grace period cuts
 * requests that never end.
 */
function shutdown(signal) {
  if (app.locals.draining) return;
  app.locals.draining = true;
  logger.info({ signal }, 'shutting down: draining in-flight requests');

  server.close(async (err) => {
    if (err) logger.error({ err }, 'error while closing the server');
    try {
      await pool.end();
      logger.info('database pool closed, bye');
    } catch (poolErr) {
      logger.error({ err: poolErr }, 'error while closing the database pool');
    }
    process.exit(err ? 1 : 0);
  });
  // Idle keep-alive connections would hold server.close() open until they time out.
  server.closeIdleConnections();
  setInterval(() => server.closeIdleConnections(), 250).unref();

  setTimeout(() => {
    logger.error(`requests still running after ${config.shutdownTimeoutMs} ms: closing them`);
    server.closeAllConnections();
  }, config.shutdownTimeoutMs).unref();
}

process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

// A bug that escaped every handler leaves the process in an unknown state: log, exit,
// and let the orchestrator start a fresh one.
process.on('uncaughtException', (err) => {
  logger.fatal({ err }, 'uncaught exception');
  process.exit(1);
});
process.on('unhandledRejection', (reason) => {
  logger.fatal({ err: reason }, 'unhandled promise rejection');
  process.exit(1);
});
