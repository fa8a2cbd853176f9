'use strict';
/**
 * Ajv validators, one per part of the request (the pattern from Fastify's
 * "Validation and Serialization" guide). Fastify's default Ajv coerces types and stops
 * at the first error; that suits path and query strings ("7" → 7) but not JSON
 * bodies, where {"name": 5} must be refused rather than turned into "5", and where
 * the client should hear about every bad field at once. allErrors is safe here
 * because the schemas are small and bodyLimit caps the input.
 */
const Ajv = require('ajv');
const addFormats = require('ajv-formats');

const common = { useDefaults: true, removeAdditional: true };
const compilers = {
  body: addFormats(new Ajv({ ...common, coerceTypes: false, allErrors: true })),
  params: new Ajv({ ...common, coerceTypes: 'array' }),
  querystring: new Ajv({ ...common, coerceTypes: 'array' }),
  headers: new Ajv({ ...common, coerceTypes: 'array' }),
};

function validatorCompiler({ schema, httpPart }) {
  return compilers[httpPart].compile(schema);
}

module.exports = { validatorCompiler };
