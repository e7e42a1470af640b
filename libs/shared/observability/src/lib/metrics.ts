import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { RequestMetrics, type RequestMetricsOptions } from './request-metrics';

/**
 * Prometheus metrics (prom-client, the standard client) with process defaults, in a registry
 * per service so tests can create several.
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  private readonly defaultLabels: Readonly<Record<string, string>>;
  private readonly requestMetrics: RequestMetrics[] = [];

  constructor(service: string) {
    this.defaultLabels = { service };
    this.registry.setDefaultLabels(this.defaultLabels);
    collectDefaultMetrics({ register: this.registry });
  }

  counter(name: string, help: string, labelNames: string[] = []): Counter {
    this.assertUnused(name);
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  gauge(name: string, help: string, labelNames: string[] = [], collect?: (gauge: Gauge) => void): Gauge {
    this.assertUnused(name);
    return new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      ...(collect ? { collect: function (this: Gauge) { collect(this); } } : {}),
    });
  }

  histogram(name: string, help: string, labelNames: string[] = [], buckets?: number[]): Histogram {
    this.assertUnused(name);
    return new Histogram({ name, help, labelNames, registers: [this.registry], ...(buckets ? { buckets } : {}) });
  }

  /** Request counts and durations for a hot path (see `RequestMetrics`), rendered with the rest. */
  requests(options: RequestMetricsOptions): RequestMetrics {
    const metrics = new RequestMetrics(options);
    for (const name of metrics.names) this.assertUnused(name);
    this.requestMetrics.push(metrics);
    return metrics;
  }

  /** One name, one metric, whether prom-client or `RequestMetrics` writes it. */
  private assertUnused(name: string): void {
    if (this.registry.getSingleMetric(name) !== undefined || this.requestMetrics.some((metrics) => metrics.names.includes(name))) {
      throw new Error(`A metric named ${name} is already registered`);
    }
  }

  /** The text exposition format for `GET /metrics`. */
  async render(): Promise<{ contentType: string; body: string }> {
    let body = await this.registry.metrics();
    for (const metrics of this.requestMetrics) body += `\n${metrics.exposition(this.defaultLabels)}`;
    return { contentType: this.registry.contentType, body };
  }
}
