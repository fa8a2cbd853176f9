import { Controller, Get, Query } from '@nestjs/common';
import { query } from '../database';

@Controller('api')
export class DemoController {
  @Get('slow')
  async slow(@Query('ms') ms = '100') {
    await new Promise((resolve) => setTimeout(resolve, Number(ms)));
    return { ms: Number(ms) };
  }

  @Get('slow-query')
  async slowQuery(@Query('ms') ms = '100') {
    await query('SELECT pg_sleep($1 / 1000.0)', [Number(ms)]);
    return { ms: Number(ms) };
  }

  @Get('boom')
  boom() {
    throw new Error('boom: an unexpected failure');
  }
}
