'use strict';
const { query } = require('../db');
const { NotFoundError } = require('../errors');

const INT4_MAX = 2 ** 31 - 1; // users.id is a PostgreSQL integer

// JSON Schemas: Ajv validates the input, fast-json-stringify serialises the output
// (only the listed properties, so a new column never leaks by accident).
const user = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    name: { type: ['string', 'null'] },
    email: { type: ['string', 'null'] },
  },
};
const newUser = {
  type: 'object',
  required: ['name', 'email'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 100, pattern: '\\S' },
    email: { type: 'string', format: 'email', maxLength: 254 },
  },
};
const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'integer' } },
};

/** Mounted under /api. */
async function usersRoutes(app, { pool }) {
  app.get('/users', { schema: { response: { 200: { type: 'array', items: user } } } }, async () => {
    const { rows } = await query(pool, 'SELECT id, name, email FROM users ORDER BY id');
    return rows;
  });

  app.get('/users/:id', { schema: { params: idParams, response: { 200: user } } }, async (request) => {
    const { id } = request.params;
    const { rows } = Math.abs(id) <= INT4_MAX
      ? await query(pool, 'SELECT id, name, email FROM users WHERE id = $1', [id])
      : { rows: [] }; // an integer no row can have
    if (rows.length === 0) throw new NotFoundError(`User ${id} not found`);
    return rows[0];
  });

  app.post('/users', { schema: { body: newUser, response: { 201: user } } }, async (request, reply) => {
    const { name, email } = request.body;
    const { rows } = await query(pool,
      'INSERT INTO users (name, email) VALUES ($1, $2) RETURNING id, name, email', [name.trim(), email]);
    reply.code(201).header('Location', `/api/users/${rows[0].id}`);
    return rows[0];
  });
}

module.exports = { usersRoutes };
