import type { NextFunction, Request, Response } from 'express';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics with prom-client: the RED metrics (rate, errors, duration) per
 * route *template* (/api/users/:id), never per concrete URL, so the number of time
 * series stays bounded.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry }); // process and Node.js runtime metrics

const labelNames = ['method', 'route', 'status_code'] as const;
const requests = new Counter({
  name: 'http_requests_total',
  help: 'HTTP requests handled',
  labelNames,
  registers: [registry],
});
const duration = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'HTTP request duration in seconds',
  labelNames,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

/**
 * Express middleware, installed in main.ts ahead of everything so it also counts
 * 404s, 429s and errors. Nest registers each handler as an Express route, so once
 * the response is finished req.route holds its template.
 */
export function httpMetrics(req: Request, res: Response, next: NextFunction): void {
  const stopTimer = duration.startTimer();
  res.on('finish', () => {
    const route: string = req.route ? req.baseUrl + req.route.path : 'unmatched';
    const labels = { method: req.method, route, status_code: res.statusCode };
    stopTimer(labels);
    requests.inc(labels);
  });
  next();
}
