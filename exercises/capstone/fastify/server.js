'use strict';
// Capstone starter: the service contract (docs/service-contract.md) in Fastify 5,
// written the quick way. Every route answers, and nothing is production-ready yet:
// `course check .` lists what is missing. See README.md.
const Fastify = require('fastify');
const { Client } = require('pg');

const PORT = Number(process.env.PORT || 3000);
const HOST = process.env.HOST || '127.0.0.1';
const DATABASE_URL = process.env.DATABASE_URL;

const app = Fastify();

app.addHook('onRequest', async (request) => {
  console.log(`${new Date().toISOString()} ${request.method} ${request.url}`);
});

// A new connection for every query.
async function query(text, params) {
  const client = new Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    return await client.query(text, params);
  } finally {
    await client.end();
  }
}

app.get('/health', async () => {
  return { status: 'ok' };
});

app.get('/health/ready', async () => {
  return { status: 'ok' };
});

app.get('/api/users', async () => {
  const result = await query('SELECT id, name, email FROM users ORDER BY id');
  return result.rows;
});

app.get('/api/users/:id', async (request, reply) => {
  const result = await query('SELECT id, name, email FROM users WHERE id = $1', [request.params.id]);
  if (result.rows.length === 0) return reply.code(404).send({ error: 'Not found' });
  return result.rows[0];
});

app.post('/api/users', async (request, reply) => {
  const { name, email } = request.body || {};
  const result = await query(
    'INSERT INTO users (name, email) VALUES ($1, $2) RETURNING id, name, email', [name, email]);
  return reply.code(201).send(result.rows[0]);
});

app.get('/api/slow', async (request) => {
  const ms = Number(request.query.ms || 100);
  await new Promise((resolve) => setTimeout(resolve, ms));
  return { ms };
});

app.get('/api/slow-query', async (request) => {
  const ms = Number(request.query.ms || 100);
  await query('SELECT pg_sleep($1 / 1000.0)', [ms]);
  return { ms };
});

app.get('/api/boom', async () => {
  throw new Error('boom: an unexpected failure');
});

app.listen({ port: PORT, host: HOST }).then(() => {
  console.log(`Server listening on http://${HOST}:${PORT}`);
});
