'use strict';
/**
 * Request validation with zod: every field is checked and every problem reported at
 * once, as {"field", "message"} pairs in the 422's details.
 */
const { z } = require('zod');
const { ValidationError, BadRequestError } = require('./errors');

const newUserSchema = z.object({
  name: z.string().trim().min(1, 'name must not be empty').max(100),
  email: z.email().max(254),
});

const idSchema = z.string().regex(/^-?\d+$/, 'id must be an integer');
const msSchema = z.coerce.number().int().min(0).max(30_000).default(100);

/** Middleware: replace req.body with the parsed, trimmed value, or answer 422. */
function validateBody(schema) {
  return (req, res, next) => {
    // No body or a non-JSON one leaves req.body undefined: report the fields as missing.
    const result = schema.safeParse(req.body ?? {});
    if (!result.success) {
      const details = result.error.issues.map((issue) => ({
        field: issue.path.join('.') || 'body', // the body as a whole (not an object)
        message: issue.message,
      }));
      return next(new ValidationError('Request body is invalid', details));
    }
    req.body = result.data;
    next();
  };
}

/** A path or query parameter that must parse, else 400. */
function parseParam(schema, value, message) {
  const result = schema.safeParse(value);
  if (!result.success) throw new BadRequestError(message);
  return result.data;
}

module.exports = { newUserSchema, idSchema, msSchema, validateBody, parseParam };
