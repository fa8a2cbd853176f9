'use strict';
// errors.js: the seed's error classes and a production-ready Express error handler.

class APIError extends Error {
  constructor(message, status = 500, code = 'INTERNAL_ERROR') {
    super(message);
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
  constructor(message = 'Validation failed', details = []) { // [{ field, message }], one per invalid field
    super(message, 422, 'VALIDATION_ERROR');
    this.details = details;
  }
}

class BadRequestError extends APIError {
  constructor(message = 'Bad request', details = []) {
    super(message, 400, 'BAD_REQUEST');
    this.details = details;
  }
}

// the contract's code for each status (any other 4xx: BAD_REQUEST, any other 5xx: INTERNAL_ERROR)
const CODES = { 400: 'BAD_REQUEST', 404: 'NOT_FOUND', 405: 'METHOD_NOT_ALLOWED', 409: 'CONFLICT',
                413: 'PAYLOAD_TOO_LARGE', 422: 'VALIDATION_ERROR', 429: 'RATE_LIMITED' };
const codeFor = (status) => CODES[status] ?? (status < 500 ? 'BAD_REQUEST' : 'INTERNAL_ERROR');

/** Mount after every route: an unknown route becomes a NotFoundError like any other. */
function notFound(req, res, next) {
  next(new NotFoundError(`Route ${req.method} ${req.path} not found`));
}

/** Errors raised by Express itself (body-parser's http-errors carry .status and .expose). */
function fromExpress(err) {
  if (err.type === 'entity.parse.failed') return new APIError('Malformed JSON body', 400, 'BAD_REQUEST');
  if (err.expose && err.status >= 400 && err.status < 500) return new APIError(err.message, err.status, codeFor(err.status));
  return null;
}

function errorHandler(logger) {
  return (err, req, res, next) => {
    if (res.headersSent) return next(err); // too late for a status: Express closes the connection
    const known = err instanceof APIError ? err : fromExpress(err);
    const status = known ? known.status : 500;
    // pino's signature is (object, message): `err` is serialized with its stack.
    logger[status >= 500 ? 'error' : 'warn']({ err, status, method: req.method, path: req.path }, err.message);
    const error = known
      ? { code: known.code, message: known.message, ...(known.details?.length && { details: known.details }) }
      : { code: 'INTERNAL_ERROR', message: 'Internal server error' }; // never echo an unexpected message
    res.status(status).json({ error });
  };
}

module.exports = { APIError, NotFoundError, ValidationError, BadRequestError, notFound, errorHandler };

if (require.main === module) console.log('errors.js exports:', Object.keys(module.exports).join(', '));
