'use strict';
/**
 * Prometheus metrics with prom-client: the RED metrics (rate, errors, duration) per
 * route *template* (request.routeOptions.url, e.g. /api/users/:id), never per
 * concrete URL, so the number of time series stays bounded.
 */
const client = require('prom-client');

const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry }); // process and Node.js runtime metrics

const labelNames = ['method', 'route', 'status_code'];
const requests = new client.Counter({
  name: 'http_requests_total',
  help: 'HTTP requests handled',
  labelNames,
  registers: [registry],
});
const duration = new client.Histogram({
  name: 'http_request_duration_seconds',
  help: 'HTTP request duration in seconds',
  labelNames,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

/** A plugin for the root instance: count every response, and serve GET /metrics. */
async function metrics(app) {
  app.addHook('onResponse', async (request, reply) => {
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched', // undefined for 404s
      status_code: reply.statusCode,
    };
    requests.inc(labels);
    duration.observe(labels, reply.elapsedTime / 1000);
  });

  app.get('/metrics', { logLevel: 'warn' }, async (request, reply) => {
    reply.type(registry.contentType); // text/plain; version=0.0.4
    return registry.metrics();
  });
}

module.exports = { metrics };
