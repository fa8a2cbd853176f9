// The starter: a typical first version of the users service. It works on a laptop,
// uses the seed's Express.js pattern and its error classes and global handler, and
// follows the service contract (docs/service-contract.md) — but none of the production
// checklist has been done yet. `course check` fails it on all 11 items.
const express = require('express');
const { Client } = require('pg');

const app = express();
app.use(express.json());

// A new connection for every query, closed afterwards.
async function query(text, params) {
  const client = new Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    return await client.query(text, params);
  } finally {
    await client.end();
  }
}

// ---- seed: Custom Error Classes ----
class APIError extends Error {
  constructor(message, status = 500, code = 'INTERNAL_ERROR') {
    super(message);
    this.status = status;
    this.code = code;
  }
}

class NotFoundError extends APIError {
  constructor(message = 'Resource not found') {
    super(message, 404, 'NOT_FOUND');
  }
}

// ---- routes ----
app.get('/api/users', async (req, res, next) => {
  try {
    const { rows } = await query('SELECT id, name, email FROM users ORDER BY id');
    res.json(rows);
  } catch (error) {
    next(error);
  }
});

// seed: Express.js Pattern
app.get('/api/users/:id', async (req, res, next) => {
  try {
    const { rows } = await query('SELECT id, name, email FROM users WHERE id = $1', [req.params.id]);
    const user = rows[0];
    if (!user) return res.status(404).json({ error: 'Not found' });
    res.json(user);
  } catch (error) {
    next(error);
  }
});

app.post('/api/users', async (req, res, next) => {
  try {
    const { name, email } = req.body ?? {};
    const { rows } = await query('INSERT INTO users (name, email) VALUES ($1, $2) RETURNING *', [name, email]);
    res.status(201).json(rows[0]);
  } catch (error) {
    next(error);
  }
});

app.get('/api/slow', async (req, res) => {
  const ms = Number(req.query.ms ?? 100);
  await new Promise((resolve) => setTimeout(resolve, ms));
  res.json({ slept_ms: ms });
});

app.get('/api/slow-query', async (req, res, next) => {
  try {
    const ms = Number(req.query.ms ?? 100);
    await query('SELECT pg_sleep($1::float8 / 1000)', [ms]);
    res.json({ slept_ms: ms });
  } catch (error) {
    next(error);
  }
});

app.get('/api/boom', () => {
  throw new APIError('Something broke');
});

// ---- seed: Global Error Handler (console instead of a logger) ----
app.use((err, req, res, next) => {
  const status = err.status || 500;
  console.error(err.message, { status, path: req.path, stack: err.stack });
  res.status(status).json({
    error: {
      code: err.code || 'INTERNAL_ERROR',
      message: err.message
    }
  });
});

const port = process.env.PORT || 3000;
app.listen(port, process.env.HOST, () => console.log(`Server listening on port ${port}`));
