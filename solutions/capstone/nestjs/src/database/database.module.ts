import { Global, Module } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { Pool } from 'pg';
import { APP_CONFIG, AppConfig } from '../config';
import { DatabaseService, PG_POOL } from './database.service';

/** One pg.Pool for the process: at most DB_POOL_MAX connections, reused. */
@Global()
@Module({
  providers: [
    {
      provide: PG_POOL,
      inject: [APP_CONFIG, PinoLogger],
      useFactory: (config: AppConfig, logger: PinoLogger) => {
        logger.setContext('Database');
        const pool = new Pool({
          connectionString: config.databaseUrl,
          application_name: 'capstone-nestjs', // how pg_stat_activity names our connections
          max: config.dbPoolMax,
          connectionTimeoutMillis: config.dbAcquireTimeoutMs, // waiting for a free or new connection
          idleTimeoutMillis: 30_000,
        });
        // An idle connection that the server closes emits 'error' on the pool; unhandled,
        // that event would crash the process.
        pool.on('error', (err) => logger.warn({ err }, 'idle database connection lost'));
        return pool;
      },
    },
    DatabaseService,
  ],
  exports: [DatabaseService],
})
export class DatabaseModule {}
