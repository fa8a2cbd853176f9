'use strict';
const express = require('express');
const { query } = require('../db');
const { NotFoundError } = require('../errors');
const { newUserSchema, idSchema, validateBody, parseParam } = require('../validation');

const INT4_MAX = 2 ** 31 - 1; // users.id is a PostgreSQL integer

function usersRouter({ pool }) {
  const router = express.Router();

  // Express 5 forwards a rejected promise to the error handler: no try/catch, no next(err).
  router.get('/api/users', async (req, res) => {
    const { rows } = await query(pool, 'SELECT id, name, email FROM users ORDER BY id');
    res.json(rows);
  });

  router.get('/api/users/:id', async (req, res) => {
    const id = Number(parseParam(idSchema, req.params.id, 'id must be an integer'));
    const { rows } = Math.abs(id) <= INT4_MAX
      ? await query(pool, 'SELECT id, name, email FROM users WHERE id = $1', [id])
      : { rows: [] }; // an integer no row can have
    if (rows.length === 0) throw new NotFoundError(`User ${req.params.id} not found`);
    res.json(rows[0]);
  });

  router.post('/api/users', validateBody(newUserSchema), async (req, res) => {
    const { name, email } = req.body;
    const { rows } = await query(pool,
      'INSERT INTO users (name, email) VALUES ($1, $2) RETURNING id, name, email', [name, email]);
    res.status(201).location(`/api/users/${rows[0].id}`).json(rows[0]);
  });

  return router;
}

module.exports = { usersRouter };
