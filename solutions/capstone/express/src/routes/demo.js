'use strict';
/** The contract's test routes: a slow handler, a slow query and an unexpected failure. */
const express = require('express');
const { setTimeout: sleep } = require('node:timers/promises');
const { query } = require('../db');
const { msSchema, parseParam } = require('../validation');

const MS_MESSAGE = 'ms must be an integer between 0 and 30000';

function demoRouter({ pool }) {
  const router = express.Router();

  router.get('/api/slow', async (req, res) => {
    const ms = parseParam(msSchema, req.query.ms, MS_MESSAGE);
    await sleep(ms);
    res.json({ ms });
  });

  // Holds one pooled connection for ms milliseconds.
  router.get('/api/slow-query', async (req, res) => {
    const ms = parseParam(msSchema, req.query.ms, MS_MESSAGE);
    await query(pool, 'SELECT pg_sleep($1::float8 / 1000.0)', [ms]);
    res.json({ ms });
  });

  router.get('/api/boom', () => {
    throw new Error('boom: an unexpected failure');
  });

  return router;
}

module.exports = { demoRouter };
