'use strict';
/**
 * Structured logging: pino writes one JSON object per line on stdout
 * ({"level":30,"time":...,"msg":...}); pino-http adds one access line per request.
 */
const crypto = require('node:crypto');
const pino = require('pino');
const pinoHttp = require('pino-http');

function createLogger(level) {
  return pino({
    level,
    // Credentials never reach the log store (OWASP Logging Cheat Sheet).
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
      censor: '[Redacted]',
    },
  });
}

function accessLog(logger) {
  return pinoHttp({
    logger,
    // Reuse a well-formed X-Request-Id from the caller (a proxy), else make one; echo it back.
    genReqId(req, res) {
      const incoming = req.headers['x-request-id'];
      const id = typeof incoming === 'string' && /^[\w-]{1,64}$/.test(incoming) ? incoming : crypto.randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
    customLogLevel(req, res, err) {
      if (err || res.statusCode >= 500) return 'error';
      if (res.statusCode >= 400) return 'warn';
      return 'info';
    },
    customSuccessMessage: (req, res) => `${req.method} ${req.originalUrl} ${res.statusCode}`,
    customErrorMessage: (req, res) => `${req.method} ${req.originalUrl} ${res.statusCode}`,
    // Probes hit these every few seconds; their access lines are noise.
    autoLogging: { ignore: (req) => /^\/(health|metrics)(\/|\?|$)/.test(req.url) },
  });
}

module.exports = { createLogger, accessLog };
