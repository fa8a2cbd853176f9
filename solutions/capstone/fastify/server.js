'use strict';
/**
 * Entry point (Procfile: `web: node server.js`, exec'd so SIGTERM reaches Node).
 */
const closeWithGrace = require('close-with-grace');
const { loadConfig } = require('./src/config');
const { buildApp } = require('./src/app');

let config;
try {
  config = loadConfig();
} catch (err) {
  process.stderr.write(`invalid configuration: ${err.message}\n`);
  process.exit(2);
}

const app = buildApp(config);

// Graceful shutdown on SIGTERM/SIGINT (and on an uncaught error): app.close() stops
// accepting connections, answers 503 to new requests on kept-alive ones, waits for
// in-flight requests, then runs the onClose hooks (the pool). Past the delay, under
// Kubernetes' 30 s grace period, the process exits anyway.
closeWithGrace({ delay: config.shutdownTimeoutMs, logger: app.log }, async ({ signal, err }) => {
  if (err) app.log.error({ err }, 'shutting down after an uncaught error');
  else app.log.info({ signal }, 'shutting down: draining in-flight requests');
  await app.close();
});

app.listen({ port: config.port, host: config.host }).catch((err) => {
  app.log.fatal({ err }, 'could not start');
  process.exit(1);
});
