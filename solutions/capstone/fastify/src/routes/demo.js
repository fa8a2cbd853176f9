'use strict';
/** The contract's test routes: a slow handler, a slow query and an unexpected failure. */
const { setTimeout: sleep } = require('node:timers/promises');
const { query } = require('../db');

const msQuery = {
  type: 'object',
  properties: { ms: { type: 'integer', minimum: 0, maximum: 30_000, default: 100 } },
};

/** Mounted under /api. */
async function demoRoutes(app, { pool }) {
  app.get('/slow', { schema: { querystring: msQuery } }, async (request) => {
    const { ms } = request.query;
    await sleep(ms);
    return { ms };
  });

  // Holds one pooled connection for ms milliseconds.
  app.get('/slow-query', { schema: { querystring: msQuery } }, async (request) => {
    const { ms } = request.query;
    await query(pool, 'SELECT pg_sleep($1::float8 / 1000.0)', [ms]);
    return { ms };
  });

  app.get('/boom', async () => {
    throw new Error('boom: an unexpected failure');
  });
}

module.exports = { demoRoutes };
