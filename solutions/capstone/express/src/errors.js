'use strict';
/**
 * The seed's error classes (shared/seed, "Centralized Error Handler") and the one
 * error middleware that turns anything thrown into the contract's envelope:
 *   {"error": {"code": "NOT_FOUND", "message": "...", "details": ...}}
 * Expected errors carry their status and code; anything else is a 500 whose message
 * and stack go to the log, never to the client.
 */

class APIError extends Error {
  constructor(message, status = 500, code = 'INTERNAL_ERROR') {
    super(message);
    this.name = new.target.name;
    this.status = status;
    this.code = code;
  }
}

class NotFoundError extends APIError {
  constructor(message = 'Resource not found') {
    super(message, 404, 'NOT_FOUND');
  }
}

class ValidationError extends APIError {
  constructor(message = 'Validation failed', details = []) {
    super(message, 422, 'VALIDATION_ERROR');
    this.details = details;
  }
}

class BadRequestError extends APIError {
  constructor(message = 'Bad request') {
    super(message, 400, 'BAD_REQUEST');
  }
}

class RateLimitedError extends APIError {
  constructor(message = 'Too many requests') {
    super(message, 429, 'RATE_LIMITED');
  }
}

class ServiceUnavailableError extends APIError {
  constructor(message = 'Service unavailable', options) {
    super(message, 503, 'SERVICE_UNAVAILABLE');
    if (options?.cause) this.cause = options.cause;
  }
}

/** Unknown routes: the last middleware before the error handler. */
function notFoundHandler(req, res, next) {
  next(new NotFoundError(`Route ${req.method} ${req.path} not found`));
}

// The contract's code for each status (docs/service-contract.md; any other 4xx: BAD_REQUEST,
// any other 5xx: INTERNAL_ERROR).
const CODE_BY_STATUS = {
  400: 'BAD_REQUEST', 404: 'NOT_FOUND', 405: 'METHOD_NOT_ALLOWED', 409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE', 422: 'VALIDATION_ERROR', 429: 'RATE_LIMITED',
};
const codeFor = (status) => CODE_BY_STATUS[status] ?? (status < 500 ? 'BAD_REQUEST' : 'INTERNAL_ERROR');

/** Express recognises error middleware by its four parameters. */
// eslint-disable-next-line no-unused-vars
function errorHandler(err, req, res, next) {
  if (res.headersSent) return next(err); // too late for an envelope: let Express close the socket

  let error = err;
  if (!(err instanceof APIError)) {
    if (err.type === 'entity.parse.failed') {
      error = new BadRequestError('Malformed JSON body');
    } else if (Number.isInteger(err.status) && err.status >= 400 && err.status < 500 && err.expose) {
      // body-parser's other client errors: body too large (413), unsupported charset, ...
      error = new APIError(err.message, err.status, codeFor(err.status));
    } else {
      error = new APIError('Internal server error');
    }
  }

  if (error.status >= 500) {
    res.err = err; // pino-http logs it, stack included, on this request's access line at error level
  }
  if (error.status === 503) res.set('Retry-After', '1');

  const body = { code: error.code, message: error.message };
  if (error.details !== undefined) body.details = error.details;
  res.status(error.status).json({ error: body });
}

module.exports = {
  APIError,
  NotFoundError,
  ValidationError,
  BadRequestError,
  RateLimitedError,
  ServiceUnavailableError,
  notFoundHandler,
  errorHandler,
};
