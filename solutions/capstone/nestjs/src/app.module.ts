import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { LoggerModule } from 'nestjs-pino';
import { AllExceptionsFilter } from './common/all-exceptions.filter';
import { createValidationPipe } from './common/validation.pipe';
import { APP_CONFIG, AppConfig } from './config';
import { DatabaseModule } from './database/database.module';
import { DemoModule } from './demo/demo.module';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';
import { UsersModule } from './users/users.module';

@Module({})
export class AppModule {
  /** The root module, built from the configuration main.ts read from the environment. */
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      global: true, // APP_CONFIG is injectable everywhere
      imports: [
        // Structured logging: pino JSON lines on stdout, one access line per request
        // (pino-http), and Nest's own logs routed through it (app.useLogger in main.ts).
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.logLevel,
            // Credentials never reach the log store (OWASP Logging Cheat Sheet).
            redact: {
              paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
              censor: '[Redacted]',
            },
            genReqId(req: IncomingMessage, res: ServerResponse) {
              const incoming = req.headers['x-request-id'];
              const id = typeof incoming === 'string' && /^[\w-]{1,64}$/.test(incoming) ? incoming : randomUUID();
              res.setHeader('X-Request-Id', id);
              return id;
            },
            customLogLevel(req: IncomingMessage, res: ServerResponse, err?: Error) {
              if (err || res.statusCode >= 500) return 'error';
              if (res.statusCode >= 400) return 'warn';
              return 'info';
            },
            // Probes hit these every few seconds; their access lines are noise.
            autoLogging: { ignore: (req: IncomingMessage) => /^\/(health|metrics)(\/|\?|$)/.test(req.url ?? '') },
          },
        }),
        // Rate limiting on every guarded route (the health and metrics controllers opt
        // out with @SkipThrottle). Keyed by req.ip, the socket address: Express's
        // 'trust proxy' stays off, so a forged X-Forwarded-For buys no fresh quota.
        ThrottlerModule.forRoot({
          throttlers: [{ ttl: config.rateLimitWindowMs, limit: config.rateLimitMax }],
          // One budget per client across all routes (the default is one per handler).
          generateKey: (context, tracker, name) => `${name}:${tracker}`,
          errorMessage: `Too many requests: at most ${config.rateLimitMax} per ${config.rateLimitWindowMs} ms`,
        }),
        DatabaseModule,
        HealthModule,
        MetricsModule,
        UsersModule,
        DemoModule,
      ],
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: APP_GUARD, useClass: ThrottlerGuard },
        { provide: APP_PIPE, useFactory: createValidationPipe },
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
      ],
      exports: [APP_CONFIG],
    };
  }
}
