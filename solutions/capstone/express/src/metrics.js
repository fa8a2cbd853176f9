'use strict';
/**
 * Prometheus metrics with prom-client: the RED metrics (rate, errors, duration) per
 * route *template* (/api/users/:id), never per concrete URL, so the number of time
 * series stays bounded.
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

/** The matched route's template; requests answered before routing share one label. */
function routeLabel(req) {
  return req.route ? req.baseUrl + req.route.path : 'unmatched';
}

function metricsMiddleware(req, res, next) {
  const stopTimer = duration.startTimer();
  res.on('finish', () => {
    const labels = { method: req.method, route: routeLabel(req), status_code: res.statusCode };
    stopTimer(labels);
    requests.inc(labels);
  });
  next();
}

async function metricsEndpoint(req, res) {
  res.set('Content-Type', registry.contentType); // text/plain; version=0.0.4
  res.send(await registry.metrics());
}

module.exports = { metricsMiddleware, metricsEndpoint };
