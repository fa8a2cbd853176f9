'use strict';
// Capstone starter: the service contract (docs/service-contract.md) in Express 5,
// written the quick way. Every route answers, and nothing is production-ready yet:
// `course check .` lists what is missing. See README.md.
const express = require('express');
const { Client } = require('pg');

const PORT = Number(process.env.PORT || 3000);
const HOST = process.env.HOST || '127.0.0.1';
const DATABASE_URL = process.env.DATABASE_URL;

const app = express();
app.use(express.json());
app.use((req, res, next) => {
  console.log(`${new Date().toISOString()} ${req.method} ${req.url}`);
  next();
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

app.get('/health', (req, res) => {
  res.json({ status: 'ok' });
});

app.get('/health/ready', (req, res) => {
  res.json({ status: 'ok' });
});

app.get('/api/users', async (req, res) => {
  const result = await query('SELECT id, name, email FROM users ORDER BY id');
  res.json(result.rows);
});

app.get('/api/users/:id', async (req, res) => {
  const result = await query('SELECT id, name, email FROM users WHERE id = $1', [req.params.id]);
  if (result.rows.length === 0) return res.status(404).json({ error: 'Not found' });
  res.json(result.rows[0]);
});

app.post('/api/users', async (req, res) => {
  const result = await query(
    'INSERT INTO users (name, email) VALUES ($1, $2) RETURNING id, name, email',
    [req.body.name, req.body.email]);
  res.status(201).json(result.rows[0]);
});

app.get('/api/slow', async (req, res) => {
  const ms = Number(req.query.ms || 100);
  await new Promise((resolve) => setTimeout(resolve, ms));
  res.json({ ms });
});

app.get('/api/slow-query', async (req, res) => {
  const ms = Number(req.query.ms || 100);
  await query('SELECT pg_sleep($1 / 1000.0)', [ms]);
  res.json({ ms });
});

app.get('/api/boom', () => {
  throw new Error('boom: an unexpected failure');
});

app.listen(PORT, HOST, () => {
  console.log(`Server listening on http://${HOST}:${PORT}`);
});
