import { HttpException, HttpStatus } from '@nestjs/common';

/**
 * The seed's error classes (shared/seed, "Centralized Error Handler"), as Nest
 * HttpExceptions whose response is the contract's error object:
 *   {"code": "NOT_FOUND", "message": "...", "details": ...}
 * AllExceptionsFilter wraps it as {"error": {...}}.
 */
export class APIError extends HttpException {
  constructor(
    message: string,
    status: number = HttpStatus.INTERNAL_SERVER_ERROR,
    readonly code: string = 'INTERNAL_ERROR',
    readonly details?: unknown,
  ) {
    super(details === undefined ? { code, message } : { code, message, details }, status);
  }
}

export class NotFoundError extends APIError {
  constructor(message = 'Resource not found') {
    super(message, HttpStatus.NOT_FOUND, 'NOT_FOUND');
  }
}

export class ValidationError extends APIError {
  constructor(message = 'Validation failed', details: unknown = []) {
    super(message, HttpStatus.UNPROCESSABLE_ENTITY, 'VALIDATION_ERROR', details);
  }
}

export class BadRequestError extends APIError {
  constructor(message = 'Bad request') {
    super(message, HttpStatus.BAD_REQUEST, 'BAD_REQUEST');
  }
}

export class ServiceUnavailableError extends APIError {
  constructor(message = 'Service unavailable', options?: { cause?: unknown }) {
    super(message, HttpStatus.SERVICE_UNAVAILABLE, 'SERVICE_UNAVAILABLE');
    if (options?.cause) this.cause = options.cause;
  }
}
