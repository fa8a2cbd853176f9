import { Controller, Get, ParseIntPipe, Query } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { BadRequestError } from '../common/errors';
import { DatabaseService } from '../database/database.service';

const MS_MESSAGE = 'ms must be an integer between 0 and 30000';
const msPipe = new ParseIntPipe({ optional: true, exceptionFactory: () => new BadRequestError(MS_MESSAGE) });

/** ?ms=N, 100 when absent. */
function sleepMs(ms: number | undefined): number {
  if (ms === undefined) return 100;
  if (ms < 0 || ms > 30_000) throw new BadRequestError(MS_MESSAGE);
  return ms;
}

/** The contract's test routes: a slow handler, a slow query, a failure. */
@Controller('api')
export class DemoController {
  constructor(private readonly db: DatabaseService) {}

  @Get('slow')
  async slow(@Query('ms', msPipe) query?: number) {
    const ms = sleepMs(query);
    await sleep(ms);
    return { ms };
  }

  /** Holds one pooled connection for ms milliseconds. */
  @Get('slow-query')
  async slowQuery(@Query('ms', msPipe) query?: number) {
    const ms = sleepMs(query);
    await this.db.query('SELECT pg_sleep($1::float8 / 1000.0)', [ms]);
    return { ms };
  }

  @Get('boom')
  boom(): never {
    throw new Error('boom: an unexpected failure');
  }
}
