/**
 * Request counts (by route and status) and durations (by route) for a hot path. Recording a
 * request adds to plain numbers, a few nanoseconds; the Prometheus text is written only when
 * metrics are scraped. prom-client's own counter and histogram hash their labels and allocate on
 * every call (about 0.7 µs a request together), which cost the evaluation service about a tenth
 * of its identify throughput, and prom-client has no way to add many observations at once.
 * The text matches prom-client's for the same observations, and is appended to its output.
 */
export interface RequestMetricsOptions {
  /** Counter name, ending in `_total`. */
  readonly requests: { readonly name: string; readonly help: string };
  /** Histogram name, in seconds. */
  readonly duration: { readonly name: string; readonly help: string; readonly buckets: readonly number[] };
}

interface RouteRecord {
  readonly statuses: Map<number, number>;
  /** Observations per bucket (not cumulative), the last one past every bound. */
  readonly buckets: Float64Array;
  sum: number;
  count: number;
}

/** Label values escaped as the exposition format requires: backslash, double quote, newline. */
function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(help: string): string {
  return help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function labelText(labels: readonly (readonly [string, string])[]): string {
  return `{${labels.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(',')}}`;
}

export class RequestMetrics {
  private readonly routes = new Map<string, RouteRecord>();
  private readonly bounds: Float64Array;

  constructor(private readonly options: RequestMetricsOptions) {
    const sorted = [...options.duration.buckets].sort((a, b) => a - b);
    if (sorted.some((bound, index) => !Number.isFinite(bound) || (index > 0 && bound === sorted[index - 1]))) {
      throw new Error('Histogram buckets must be distinct finite numbers');
    }
    this.bounds = Float64Array.from(sorted);
  }

  /** The metric names this writes. */
  get names(): readonly string[] {
    return [this.options.requests.name, this.options.duration.name];
  }

  /** One answered request. */
  record(route: string, status: number, seconds: number): void {
    let entry = this.routes.get(route);
    if (entry === undefined) {
      entry = { statuses: new Map(), buckets: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
      this.routes.set(route, entry);
    }
    entry.statuses.set(status, (entry.statuses.get(status) ?? 0) + 1);
    const bounds = this.bounds;
    let index = 0;
    while (index < bounds.length && seconds > (bounds[index] as number)) index++;
    (entry.buckets[index] as number)++;
    entry.sum += seconds;
    entry.count++;
  }

  /**
   * Both metrics in the Prometheus text format, with `labels` (a service's default labels) placed
   * among each series' own as prom-client places them.
   */
  exposition(labels: Readonly<Record<string, string>> = {}): string {
    const shared = Object.entries(labels);
    const { requests, duration } = this.options;
    const lines = [`# HELP ${requests.name} ${escapeHelp(requests.help)}`, `# TYPE ${requests.name} counter`];
    for (const [route, entry] of this.routes) {
      for (const [status, count] of entry.statuses) lines.push(`${requests.name}${labelText([['route', route], ['status', String(status)], ...shared])} ${count}`);
    }
    lines.push('', `# HELP ${duration.name} ${escapeHelp(duration.help)}`, `# TYPE ${duration.name} histogram`);
    for (const [route, entry] of this.routes) {
      let cumulative = 0;
      for (let index = 0; index <= this.bounds.length; index++) {
        cumulative += entry.buckets[index] as number;
        const le = index < this.bounds.length ? String(this.bounds[index]) : '+Inf';
        lines.push(`${duration.name}_bucket${labelText([['le', le], ...shared, ['route', route]])} ${cumulative}`);
      }
      lines.push(`${duration.name}_sum${labelText([...shared, ['route', route]])} ${entry.sum}`);
      lines.push(`${duration.name}_count${labelText([...shared, ['route', route]])} ${entry.count}`);
    }
    return `${lines.join('\n')}\n`;
  }
}
