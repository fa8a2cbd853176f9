import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { APIError } from './errors';

/** The contract's code for each status (docs/service-contract.md), for Nest's built-in
 * exceptions (NotFoundException, ThrottlerException, ...) and body-parser's errors. */
const CODE_BY_STATUS: Record<number, string> = {
  [HttpStatus.BAD_REQUEST]: 'BAD_REQUEST',
  [HttpStatus.NOT_FOUND]: 'NOT_FOUND',
  [HttpStatus.METHOD_NOT_ALLOWED]: 'METHOD_NOT_ALLOWED',
  [HttpStatus.CONFLICT]: 'CONFLICT',
  [HttpStatus.PAYLOAD_TOO_LARGE]: 'PAYLOAD_TOO_LARGE',
  [HttpStatus.UNPROCESSABLE_ENTITY]: 'VALIDATION_ERROR',
  [HttpStatus.TOO_MANY_REQUESTS]: 'RATE_LIMITED',
  [HttpStatus.BAD_GATEWAY]: 'BAD_GATEWAY',
  [HttpStatus.SERVICE_UNAVAILABLE]: 'SERVICE_UNAVAILABLE',
  [HttpStatus.GATEWAY_TIMEOUT]: 'GATEWAY_TIMEOUT',
};

function codeFor(status: number): string {
  return CODE_BY_STATUS[status] ?? (status >= 500 ? 'INTERNAL_ERROR' : 'BAD_REQUEST');
}

/** body-parser's errors carry a status and `expose` (safe to show), not an HttpException. */
interface HttpError extends Error {
  status?: number;
  expose?: boolean;
  type?: string;
}

/** Anything thrown, as the contract's error object and a status. */
export function toErrorBody(exception: unknown): { status: number; body: Record<string, unknown> } {
  if (exception instanceof APIError) {
    return { status: exception.getStatus(), body: exception.getResponse() as Record<string, unknown> };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    let message = exception.message;
    if (typeof response === 'string') message = response;
    else if (typeof response === 'object' && response && 'message' in response) {
      const m = (response as { message: unknown }).message;
      message = Array.isArray(m) ? m.join('; ') : String(m);
    }
    if (status >= 500) message = 'Internal server error';
    return { status, body: { code: codeFor(status), message } };
  }
  const err = exception as HttpError;
  if (err?.type === 'entity.parse.failed') {
    return { status: 400, body: { code: 'BAD_REQUEST', message: 'Malformed JSON body' } };
  }
  if (Number.isInteger(err?.status) && err.status! >= 400 && err.status! < 500 && err.expose) {
    return { status: err.status!, body: { code: codeFor(err.status!), message: err.message } };  // 413: PAYLOAD_TOO_LARGE
  }
  return { status: 500, body: { code: 'INTERNAL_ERROR', message: 'Internal server error' } };
}

/**
 * The one place where failures become responses: every exception, from a handler, a
 * guard (429), a pipe (422) or the router (404), is answered with
 *   {"error": {"code", "message", "details"?}}
 * Unexpected ones are logged with their stack, which never reaches the client.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @InjectPinoLogger(AllExceptionsFilter.name) private readonly logger: PinoLogger,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const { httpAdapter } = this.adapterHost;
    const response = host.switchToHttp().getResponse();
    const { status, body } = toErrorBody(exception);

    if (status === HttpStatus.SERVICE_UNAVAILABLE) {
      this.logger.warn({ err: exception }, 'service unavailable');
      httpAdapter.setHeader(response, 'Retry-After', '1');
    } else if (status >= 500) {
      this.logger.error({ err: exception }, 'unhandled error');
    }
    httpAdapter.reply(response, { error: body }, status);
  }
}
