'use strict';
/**
 * PostgreSQL through one pg.Pool: at most DB_POOL_MAX connections, reused across
 * requests; the excess waits in the pool's queue, at most DB_ACQUIRE_TIMEOUT_MS.
 */
const pg = require('pg');
const { ServiceUnavailableError } = require('./errors');

// A query error that means the connection died under it (server restart, admin
// terminate, network): SQLSTATE class 08, 57P01-57P03, or a socket-level failure.
function isConnectionLost(err) {
  return (typeof err.code === 'string' && /^(08|57P0)/.test(err.code))
    || ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE'].includes(err.code)
    || /Connection terminated|not queryable/i.test(err.message);
}

function createPool(config, logger) {
  const pool = new pg.Pool({
    connectionString: config.databaseUrl,
    application_name: 'capstone-fastify', // how pg_stat_activity names our connections
    max: config.dbPoolMax,
    connectionTimeoutMillis: config.dbAcquireTimeoutMs, // waiting for a free or new connection
    idleTimeoutMillis: 30_000,
  });
  // An idle connection that the server closes emits 'error' on the pool; unhandled,
  // that event would crash the process.
  pool.on('error', (err) => logger.warn({ err }, 'idle database connection lost'));
  return pool;
}

/**
 * Run one query on a pooled connection. "The database is unreachable" (no connection
 * within the acquire timeout, or the connection died mid-query) becomes a
 * ServiceUnavailableError (503); a broken connection is destroyed, not put back.
 */
async function query(pool, text, params) {
  let client;
  try {
    client = await pool.connect();
  } catch (err) {
    throw new ServiceUnavailableError('Database unavailable', { cause: err });
  }
  try {
    const result = await client.query(text, params);
    client.release();
    return result;
  } catch (err) {
    const lost = isConnectionLost(err);
    client.release(lost ? err : undefined);
    throw lost ? new ServiceUnavailableError('Database connection lost', { cause: err }) : err;
  }
}

module.exports = { createPool, query };
