import { Controller, Get, Res } from '@nestjs/common';
import { SkipThrottle } from '@nestjs/throttler';
import type { Response } from 'express';
import { registry } from './metrics';

@Controller('metrics')
@SkipThrottle()
export class MetricsController {
  @Get()
  async scrape(@Res({ passthrough: true }) res: Response): Promise<string> {
    res.type(registry.contentType); // text/plain; version=0.0.4
    return registry.metrics();
  }
}
