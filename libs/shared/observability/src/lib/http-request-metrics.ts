import type { NextFunction, Request, Response } from 'express';
import type { ServiceMetrics } from './metrics';

/** Seconds; an admin request reads or folds a stream, writes an event, or lists a page. */
const ADMIN_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The route a request matched, as declared (`/api/v1/projects/:id`), never the raw URL: label values stay bounded. */
function routeTemplate(request: Request): string {
  const route: unknown = request.route;
  if (typeof route === 'object' && route !== null && 'path' in route && typeof route.path === 'string') return `${request.baseUrl ?? ''}${route.path}`;
  return 'unmatched';
}

/**
 * Express middleware counting and timing every request by method, route template and status
 * class (`<prefix>_requests_total`, `<prefix>_request_duration_seconds`). Mount it before the
 * routes; the labels are read when the answer is finished, once routing has named the route.
 */
export function httpRequestMetrics(metrics: ServiceMetrics, prefix: string): (request: Request, response: Response, next: NextFunction) => void {
  const requests = metrics.counter(`${prefix}_requests_total`, 'Requests answered, by method, route template and status class', ['method', 'route', 'status_class']);
  const duration = metrics.histogram(`${prefix}_request_duration_seconds`, 'Time to answer, by method, route template and status class', ['method', 'route', 'status_class'], ADMIN_BUCKETS);
  return (request, response, next) => {
    const startedAt = process.hrtime.bigint();
    response.once('finish', () => {
      const labels = { method: request.method, route: routeTemplate(request), status_class: `${Math.floor(response.statusCode / 100)}xx` };
      requests.inc(labels);
      duration.observe(labels, Number(process.hrtime.bigint() - startedAt) / 1e9);
    });
    next();
  };
}
