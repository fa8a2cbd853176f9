'use strict';
/**
 * The Express application. Middleware order is the design:
 * headers and logging first (so errors get them too), then CORS and compression,
 * health and metrics before the rate limiter, the API, and the error handler last.
 */
const express = require('express');
const helmet = require('helmet');
const cors = require('cors');
const compression = require('compression');
const { rateLimit } = require('express-rate-limit');
const { accessLog } = require('./logger');
const { metricsMiddleware, metricsEndpoint } = require('./metrics');
const { APIError, RateLimitedError, notFoundHandler, errorHandler } = require('./errors');
const { healthRouter } = require('./routes/health');
const { usersRouter } = require('./routes/users');
const { demoRouter } = require('./routes/demo');

function createApp({ config, logger, pool }) {
  const app = express();
  app.locals.draining = false; // set by server.js on SIGTERM

  app.disable('x-powered-by');
  app.use(helmet()); // CSP, X-Frame-Options, nosniff, Referrer-Policy, X-XSS-Protection: 0, ...
  app.use(accessLog(logger));
  app.use(metricsMiddleware);
  app.use((req, res, next) => {
    // While draining, a request on a kept-alive connection is sent elsewhere.
    if (!app.locals.draining) return next();
    res.set('Connection', 'close');
    next(new APIError('Server is shutting down', 503, 'SERVICE_UNAVAILABLE'));
  });
  app.use(compression()); // gzip/deflate/br above 1 kB; sets Vary: Accept-Encoding
  app.use(cors({
    origin: config.corsOrigins, // exact matches only, echoed back with Vary: Origin
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['Content-Type', 'Authorization'],
    maxAge: 600,
  }));

  app.get('/metrics', metricsEndpoint);
  app.use(healthRouter({ pool, config }));

  app.use('/api', rateLimit({
    windowMs: config.rateLimitWindowMs,
    limit: config.rateLimitMax,
    standardHeaders: 'draft-8', // RateLimit and RateLimit-Policy; Retry-After on the 429
    legacyHeaders: false,
    // Keyed by req.ip, the socket's address: 'trust proxy' stays off, so a client cannot
    // buy a fresh quota with a forged X-Forwarded-For. Behind a load balancer, set
    // app.set('trust proxy', <its address or hop count>) instead.
    validate: { xForwardedForHeader: false },
    logger,
    handler: (req, res, next, options) => {
      next(new RateLimitedError(`Too many requests: at most ${options.limit} per ${options.windowMs} ms`));
    },
  }));
  app.use('/api', express.json({ limit: '100kb' }));
  app.use(usersRouter({ pool }));
  app.use(demoRouter({ pool }));

  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}

module.exports = { createApp };
