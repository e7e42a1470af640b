import { Counter, Histogram, Registry } from 'prom-client';
import { RequestMetrics } from './request-metrics';
import { ServiceMetrics } from './metrics';

const BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25];
const OPTIONS = {
  requests: { name: 'app_requests_total', help: 'Requests, by route and status' },
  duration: { name: 'app_request_duration_seconds', help: 'Time to answer, by route', buckets: BUCKETS },
};

/** Observations spread over every bucket, bounds included, on two routes with several statuses. */
const OBSERVATIONS: [string, number, number][] = [
  ['flags', 200, 0.00005],
  ['flags', 200, 0.0001],
  ['identities', 200, 0.0003],
  ['flags', 304, 0.0012],
  ['identities', 400, 0.004],
  ['identities', 200, 0.0099],
  ['flags', 200, 0.03],
  ['identities', 200, 0.2],
  ['identities', 503, 0.25],
  ['flags', 200, 1.5],
  ['identities', 200, 0.00025],
];

/** The same observations through prom-client's own counter and histogram. */
async function promClientText(labels: Record<string, string>): Promise<string> {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  const counter = new Counter({ name: OPTIONS.requests.name, help: OPTIONS.requests.help, labelNames: ['route', 'status'], registers: [registry] });
  const histogram = new Histogram({ name: OPTIONS.duration.name, help: OPTIONS.duration.help, labelNames: ['route'], buckets: BUCKETS, registers: [registry] });
  for (const [route, status, seconds] of OBSERVATIONS) {
    counter.inc({ route, status: String(status) });
    histogram.observe({ route }, seconds);
  }
  return registry.metrics();
}

/** Sample lines, without comments, sorted: series order within a metric is not part of the format. */
function samples(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .sort();
}

describe('RequestMetrics', () => {
  it('writes the very samples prom-client writes for the same requests', async () => {
    const metrics = new RequestMetrics(OPTIONS);
    for (const [route, status, seconds] of OBSERVATIONS) metrics.record(route, status, seconds);
    const labels = { service: 'evaluation-service' };
    const ours = metrics.exposition(labels);
    expect(samples(ours)).toEqual(samples(await promClientText(labels)));
    expect(ours).toContain(`# TYPE ${OPTIONS.requests.name} counter`);
    expect(ours).toContain(`# TYPE ${OPTIONS.duration.name} histogram`);
  });

  it('counts a value on a bound in that bucket and one past every bound only in +Inf', () => {
    const metrics = new RequestMetrics(OPTIONS);
    metrics.record('flags', 200, 0.001);
    metrics.record('flags', 200, 9);
    const text = metrics.exposition();
    expect(text).toContain('app_request_duration_seconds_bucket{le="0.0005",route="flags"} 0');
    expect(text).toContain('app_request_duration_seconds_bucket{le="0.001",route="flags"} 1');
    expect(text).toContain('app_request_duration_seconds_bucket{le="0.25",route="flags"} 1');
    expect(text).toContain('app_request_duration_seconds_bucket{le="+Inf",route="flags"} 2');
    expect(text).toContain('app_request_duration_seconds_count{route="flags"} 2');
    expect(text).toContain('app_requests_total{route="flags",status="200"} 2');
  });

  it('escapes label values', () => {
    const metrics = new RequestMetrics(OPTIONS);
    metrics.record('a"b\\c\nd', 200, 0.001);
    expect(metrics.exposition()).toContain('app_requests_total{route="a\\"b\\\\c\\nd",status="200"} 1');
  });

  it('writes only the headers before any request', () => {
    const text = new RequestMetrics(OPTIONS).exposition();
    expect(samples(text)).toEqual([]);
    expect(text).toContain('# HELP app_requests_total Requests, by route and status');
  });

  it('refuses buckets that are not distinct finite numbers', () => {
    expect(() => new RequestMetrics({ ...OPTIONS, duration: { ...OPTIONS.duration, buckets: [0.1, 0.1] } })).toThrow(/distinct/);
    expect(() => new RequestMetrics({ ...OPTIONS, duration: { ...OPTIONS.duration, buckets: [0.1, Number.POSITIVE_INFINITY] } })).toThrow(/distinct/);
  });
});

describe('ServiceMetrics.requests', () => {
  it('renders request metrics after the registry, with the service label', async () => {
    const service = new ServiceMetrics('evaluation-service');
    const requests = service.requests(OPTIONS);
    requests.record('identities', 200, 0.0004);
    const { body } = await service.render();
    expect(body).toContain('process_cpu_user_seconds_total');
    expect(body).toContain('app_requests_total{route="identities",status="200",service="evaluation-service"} 1');
    expect(body).toContain('app_request_duration_seconds_bucket{le="0.0005",service="evaluation-service",route="identities"} 1');
  });

  it('refuses a name already in use', () => {
    const service = new ServiceMetrics('evaluation-service');
    service.counter('app_requests_total', 'taken');
    expect(() => service.requests(OPTIONS)).toThrow(/already registered/);
    const other = new ServiceMetrics('evaluation-service');
    other.requests(OPTIONS);
    expect(() => other.requests(OPTIONS)).toThrow(/already registered/);
    expect(() => other.histogram('app_request_duration_seconds', 'taken')).toThrow(/already registered/);
  });
});
