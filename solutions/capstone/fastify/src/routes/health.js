'use strict';
const { query } = require('../db');

function withTimeout(promise, ms) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const health = {
  type: 'object',
  properties: {
    status: { type: 'string' },
    checks: { type: 'object', additionalProperties: { type: 'string' } },
  },
};

/**
 * Liveness (/health) says the process can serve and never touches the database, so
 * a database outage does not get healthy pods restarted. Readiness (/health/ready)
 * pings the database and answers 503 when it is unreachable, so the load balancer
 * sends traffic elsewhere. Registered outside /api: never rate limited. Probes come
 * every few seconds, so their access lines are logged only at warn (i.e. not at all).
 */
async function healthRoutes(app, { pool, config }) {
  app.get('/health', { logLevel: 'warn', schema: { response: { 200: health } } }, async () => {
    return { status: 'ok' };
  });

  app.get('/health/ready', { logLevel: 'warn', schema: { response: { 200: health, 503: health } } },
    async (request, reply) => {
      try {
        await withTimeout(query(pool, 'SELECT 1'), config.readyTimeoutMs);
        return { status: 'ok', checks: { database: 'ok' } };
      } catch (err) {
        request.log.warn({ err }, 'readiness check failed');
        return reply.code(503).send({ status: 'unavailable', checks: { database: 'down' } });
      }
    });
}

module.exports = { healthRoutes };
