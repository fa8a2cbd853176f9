import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Pool, QueryResult, QueryResultRow } from 'pg';
import { ServiceUnavailableError } from '../common/errors';

export const PG_POOL = Symbol('PG_POOL');

/** A query error that means the connection died under it (SQLSTATE 08xxx, 57P0x, sockets). */
function isConnectionLost(err: { code?: unknown; message?: string }): boolean {
  return (typeof err.code === 'string' && /^(08|57P0)/.test(err.code))
    || ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE'].includes(err.code as string)
    || /Connection terminated|not queryable/i.test(err.message ?? '');
}

/**
 * Queries on the shared pg.Pool. "The database is unreachable" (no connection within
 * the acquire timeout, or the connection died mid-query) becomes a 503; a broken
 * connection is destroyed rather than put back into the pool.
 */
@Injectable()
export class DatabaseService implements OnApplicationShutdown {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  async query<R extends QueryResultRow = QueryResultRow>(text: string, params?: unknown[]): Promise<QueryResult<R>> {
    let client;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw new ServiceUnavailableError('Database unavailable', { cause: err });
    }
    try {
      const result = await client.query<R>(text, params);
      client.release();
      return result;
    } catch (err) {
      const lost = isConnectionLost(err as Error);
      client.release(lost ? (err as Error) : undefined);
      throw lost ? new ServiceUnavailableError('Database connection lost', { cause: err }) : err;
    }
  }

  /**
   * Runs after the HTTP server has closed (Nest calls onApplicationShutdown last),
   * so in-flight requests still had their connections.
   */
  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }
}
