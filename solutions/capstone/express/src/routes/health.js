'use strict';
const express = require('express');
const { query } = require('../db');

function withTimeout(promise, ms) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Liveness (/health) says the process can serve and never touches the database, so
 * a database outage does not get healthy pods restarted. Readiness (/health/ready)
 * pings the database and answers 503 when it is unreachable, so the load balancer
 * sends traffic elsewhere. Both are mounted before the rate limiter.
 */
function healthRouter({ pool, config }) {
  const router = express.Router();

  router.get('/health', (req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/health/ready', async (req, res) => {
    try {
      await withTimeout(query(pool, 'SELECT 1'), config.readyTimeoutMs);
      res.json({ status: 'ok', checks: { database: 'ok' } });
    } catch (err) {
      req.log.warn({ err }, 'readiness check failed');
      res.status(503).json({ status: 'unavailable', checks: { database: 'down' } });
    }
  });

  return router;
}

module.exports = { healthRouter };
