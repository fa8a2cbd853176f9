import { ValidationError as ClassValidatorError, ValidationPipe } from '@nestjs/common';
import { ValidationError } from './errors';

/** class-validator's nested errors as a flat list of {"field", "message"}. */
function flatten(errors: ClassValidatorError[], prefix = ''): { field: string; message: string }[] {
  return errors.flatMap((e) => {
    const field = prefix + e.property;
    const own = e.constraints ? [{ field, message: Object.values(e.constraints).join('; ') }] : [];
    return [...own, ...flatten(e.children ?? [], `${field}.`)];
  });
}

/**
 * Validates every @Body() against its DTO class: unknown properties are stripped,
 * every field is checked (class-validator does not stop at the first error), and a
 * failure is a 422 that lists each bad field.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    transform: true,
    exceptionFactory: (errors) => new ValidationError('Request body is invalid', flatten(errors)),
  });
}
