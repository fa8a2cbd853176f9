'use strict';
/**
 * The Fastify application. Plugins registered on the root instance (helmet, CORS,
 * compression, metrics, the error and 404 handlers) apply to every route; the rate
 * limiter is registered inside the /api context only, so health and metrics are
 * never limited.
 */
const { randomUUID } = require('node:crypto');
const Fastify = require('fastify');
const fp = require('fastify-plugin');
const helmet = require('@fastify/helmet');
const cors = require('@fastify/cors');
const compress = require('@fastify/compress');
const rateLimit = require('@fastify/rate-limit');
const { createPool } = require('./db');
const { RateLimitedError, errorHandler, notFoundHandler } = require('./errors');
const { validatorCompiler } = require('./validation');
const { metrics } = require('./metrics');
const { healthRoutes } = require('./routes/health');
const { usersRoutes } = require('./routes/users');
const { demoRoutes } = require('./routes/demo');

function buildApp(config) {
  const app = Fastify({
    // Fastify's built-in pino: JSON lines on stdout, "incoming request" and
    // "request completed" per request, tied together by reqId.
    logger: {
      level: config.logLevel,
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[Redacted]' },
    },
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    bodyLimit: 100 * 1024,
    trustProxy: false, // request.ip is the socket address; see the rate limiter
  });

  const pool = createPool(config, app.log);
  app.addHook('onClose', async () => {
    await pool.end();
    app.log.info('database pool closed');
  });

  app.setValidatorCompiler(validatorCompiler);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);

  app.register(helmet); // CSP, X-Frame-Options, nosniff, Referrer-Policy, X-XSS-Protection: 0, ...
  app.register(cors, {
    origin: config.corsOrigins, // exact matches only, echoed back with Vary: Origin
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['Content-Type', 'Authorization'],
    maxAge: 600,
  });
  app.register(compress, { threshold: 1024 }); // gzip/br/deflate; sets Vary: Accept-Encoding
  app.register(fp(metrics)); // fastify-plugin: its onResponse hook sees every route

  app.register(healthRoutes, { pool, config });
  app.register(async (api) => {
    await api.register(rateLimit, {
      max: config.rateLimitMax,
      timeWindow: config.rateLimitWindowMs,
      // Keyed by request.ip: with trustProxy off that is the socket address, so a forged
      // X-Forwarded-For buys no fresh quota. Behind a load balancer, set trustProxy to
      // its address instead.
      enableDraftSpec: true, // RateLimit-Limit/-Remaining/-Reset, and Retry-After on the 429
      errorResponseBuilder: (request, context) => new RateLimitedError(
        `Too many requests: at most ${context.max} per ${context.after}`),
    });
    await api.register(usersRoutes, { pool });
    await api.register(demoRoutes, { pool });
  }, { prefix: '/api' });

  return app;
}

module.exports = { buildApp };
