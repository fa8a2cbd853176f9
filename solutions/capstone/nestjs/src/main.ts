/**
 * Entry point. `npm run build` compiles to dist/; the Procfile runs
 * `web: node dist/main.js` directly (no npm start), so SIGTERM reaches Node.
 */
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import compression from 'compression';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { loadConfig } from './config';
import { httpMetrics } from './metrics/metrics';

async function bootstrap(): Promise<void> {
  const config = loadConfig();
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bufferLogs: true, // hold start-up logs until pino is in place
  });
  const logger = app.get(Logger);
  app.useLogger(logger);

  // Express middleware, in this order, ahead of every route (404s and errors included).
  app.disable('x-powered-by');
  app.use(helmet()); // CSP, X-Frame-Options, nosniff, Referrer-Policy, X-XSS-Protection: 0, ...
  app.use(httpMetrics);
  app.use(compression()); // gzip/deflate/br above 1 kB; sets Vary: Accept-Encoding
  app.enableCors({
    origin: config.corsOrigins, // exact matches only, echoed back with Vary: Origin
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['Content-Type', 'Authorization'],
    maxAge: 600,
  });

  // Graceful shutdown: on SIGTERM Nest closes the HTTP server (no new connections,
  // in-flight requests finish), runs onApplicationShutdown hooks (the pool), exits 0.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  process.once('SIGTERM', () => {
    logger.log('SIGTERM received: draining in-flight requests');
    // A request that never ends must not hold the pod past its grace period.
    setTimeout(() => {
      logger.error(`still running ${config.shutdownTimeoutMs} ms after SIGTERM: exiting`);
      process.exit(1);
    }, config.shutdownTimeoutMs).unref();
  });

  await app.listen(config.port, config.host);
  logger.log(`listening on http://${config.host}:${config.port}`);
}

bootstrap().catch((err: Error) => {
  process.stderr.write(`failed to start: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
