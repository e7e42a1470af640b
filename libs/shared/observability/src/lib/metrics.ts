import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { RequestMetrics, type RequestMetricsOptions } from './request-metrics';

/**
 * Buckets (seconds) of the end-to-end propagation histograms, from an event's recordedAt to its
 * change applied (projector) or served (evaluation service): milliseconds when flowing, up to
 * minutes after an outage or during a replay.
 */
export const PROPAGATION_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

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

  histogram(name: string, help: string, labelNames: string[] = [], buckets?: readonly number[]): Histogram {
    this.assertUnused(name);
    return new Histogram({ name, help, labelNames, registers: [this.registry], ...(buckets ? { buckets: [...buckets] } : {}) });
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
