'use strict';
/**
 * The seed's error classes (shared/seed, "Centralized Error Handler") and Fastify's
 * two handlers that put every failure in the contract's envelope:
 *   {"error": {"code": "NOT_FOUND", "message": "...", "details": ...}}
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
  constructor(message = 'Bad request', details) {
    super(message, 400, 'BAD_REQUEST');
    if (details !== undefined) this.details = details;
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

/** Ajv's errors as {"field", "message"}: "required" names the missing property. */
function fieldErrors(validation) {
  return validation.map((e) => {
    const path = e.instancePath.split('/').filter(Boolean);
    if (e.keyword === 'required') path.push(e.params.missingProperty);
    const field = path.join('.') || 'body'; // the body as a whole
    return { field, message: e.keyword === 'required' ? `${field} is required` : `${field} ${e.message}` };
  });
}

/** Fastify's own 4xx errors (FST_ERR_CTP_INVALID_JSON_BODY, body too large, ...) get the
 * contract's code for their status (docs/service-contract.md; any other 4xx: BAD_REQUEST). */
const CODE_BY_STATUS = {
  400: 'BAD_REQUEST', 404: 'NOT_FOUND', 405: 'METHOD_NOT_ALLOWED', 409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE', 422: 'VALIDATION_ERROR', 429: 'RATE_LIMITED',
};

/** Turn anything thrown (or passed to reply.send) into an APIError. */
function toAPIError(err) {
  if (err instanceof APIError) return err;
  if (err.validation) {
    // Schema validation failed. A bad body is 422 with every bad field; a bad
    // path or query parameter is 400.
    const details = fieldErrors(err.validation);
    return err.validationContext === 'body'
      ? new ValidationError('Request body is invalid', details)
      : new BadRequestError(`Invalid ${err.validationContext}`, details);
  }
  const status = err.statusCode;
  if (Number.isInteger(status) && status >= 400 && status < 500) {
    return new APIError(err.message, status, CODE_BY_STATUS[status] ?? 'BAD_REQUEST');
  }
  return new APIError('Internal server error');
}

function errorHandler(err, request, reply) {
  const error = toAPIError(err);
  if (error.status >= 500) {
    request.log.error({ err }, 'request failed'); // the stack goes to the log, never to the client
  } else {
    request.log.info({ code: error.code }, error.message);
  }
  if (error.status === 503) reply.header('Retry-After', '1');
  const body = { code: error.code, message: error.message };
  if (error.details !== undefined) body.details = error.details;
  return reply.code(error.status).send({ error: body });
}

function notFoundHandler(request, reply) {
  return reply.code(404).send({
    error: { code: 'NOT_FOUND', message: `Route ${request.method} ${request.url.split('?')[0]} not found` },
  });
}

module.exports = {
  APIError,
  NotFoundError,
  ValidationError,
  BadRequestError,
  RateLimitedError,
  ServiceUnavailableError,
  errorHandler,
  notFoundHandler,
};
