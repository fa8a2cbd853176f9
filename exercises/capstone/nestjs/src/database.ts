import { Client, QueryResultRow } from 'pg';

// A new connection for every query.
export async function query<R extends QueryResultRow = QueryResultRow>(text: string, params?: unknown[]) {
  const client = new Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    return await client.query<R>(text, params);
  } finally {
    await client.end();
  }
}
