// The distributed mode end to end, each service its own process on the shared Redis and Kafka:
// admin API (command service) -> embedded event log -> relay -> Kafka -> projector -> Redis ->
// two evaluation services, and SDK identify traits back to the command service.
import { describeWithInfra, kafkaBrokers, kafkaClient, redisUrl } from '@flagline/infra-testing';
import { Redis } from 'ioredis';
import type { Admin } from 'kafkajs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { SdkClient, numberAt, record, stringAt, type SdkFlag } from './testing/http';
import { Pipeline } from './testing/pipeline';
import { compareWithRebuild, waitForIdle } from './testing/read-model-audit';
import { report } from './testing/report';
import { eventually } from './testing/wait';
import { allQueries, exposedNames, metricNames, PROMETHEUS_OWN_METRICS } from './testing/deploy-queries';
import { parseExposition, type Exposition } from '@flagline/observability';

const POWER_USERS = [
  {
    type: 'ALL',
    conditions: [
      { property: 'plan', operator: 'IN', value: 'pro,enterprise' },
      { property: 'app_version', operator: 'GREATER_THAN_INCLUSIVE', value: '2.1.0:semver' },
    ],
  },
];

const flag = (flags: Map<string, SdkFlag>, name: string): SdkFlag | undefined => flags.get(name);

describeWithInfra('distributed mode end to end (command service, relay, Kafka, projector, Redis, 2 evaluation services)', () => {
  let pipeline: Pipeline;
  let redis: Redis;
  let kafkaAdmin: Admin;

  beforeAll(async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'flagline-e2e-pipeline-'));
    // A full refresh only every 10 minutes: what the evaluation services learn in this test they
    // learn from the change notifications.
    pipeline = new Pipeline({ redisUrl: redisUrl(), kafkaBrokers: kafkaBrokers(), workDir, evaluationInstances: 2, pollIntervalMs: 600_000 });
    const started = Date.now();
    try {
      await pipeline.start();
    } finally {
      report('pipeline', { workDir, startMs: Date.now() - started });
    }
    redis = new Redis(redisUrl());
    kafkaAdmin = kafkaClient().admin();
    await kafkaAdmin.connect();
  }, 120_000);

  afterAll(async () => {
    await pipeline?.close();
    await kafkaAdmin?.disconnect();
    redis?.disconnect();
  });

  it('serves admin changes (environment flags, segment override by traits, identity override) on both evaluation services, and SDK traits reach the command service', async () => {
    const admin = pipeline.admin;
    const organisation = numberAt(await admin.ok('POST', '/organisations', { name: 'Acme' }), 'id');
    const project = numberAt(await admin.ok('POST', '/projects', { organisation, name: 'Storefront' }), 'id');
    const environment = await admin.ok('POST', `/projects/${project}/environments`, { name: 'Production' });
    const environmentId = numberAt(environment, 'id');
    const clientKey = stringAt(environment, 'apiKey');
    const feature = numberAt(await admin.ok('POST', `/projects/${project}/features`, { name: 'checkout_button', defaultEnabled: true, initialValue: 'blue' }), 'id');
    const segment = numberAt(await admin.ok('POST', `/projects/${project}/segments`, { name: 'power users', rules: POWER_USERS }), 'id');
    await admin.ok('POST', `/environments/${environmentId}/segment-overrides`, { feature, segment, enabled: true, value: 'green' });
    await admin.ok('POST', `/environments/${environmentId}/identities`, { identifier: 'ada', traits: { plan: 'pro', app_version: '2.3.0' } });
    await admin.ok('POST', `/environments/${environmentId}/identities`, { identifier: 'grace' });
    await admin.ok('PUT', `/environments/${environmentId}/identities/grace/overrides/${feature}`, { enabled: true, value: 'gold' });
    const setupIdle = await waitForIdle(pipeline, redis, kafkaAdmin, 60_000);

    const sdks = pipeline.evaluations.map((evaluation) => new SdkClient(evaluation.url, clientKey));
    for (const [index, sdk] of sdks.entries()) {
      const served = await eventually(
        `evaluation service ${index + 1} to serve the new environment`,
        async () => {
          const flags = await sdk.flags();
          const ada = await sdk.identity('ada');
          const grace = await sdk.identity('grace');
          const seen = [flag(flags, 'checkout_button'), flag(ada.flags, 'checkout_button'), flag(grace.flags, 'checkout_button')];
          return seen.every((f) => f !== undefined) ? { seen, adaTraits: ada.traits } : undefined;
        },
        { timeoutMs: 10_000 },
      );
      const [environmentFlag, adaFlag, graceFlag] = served.value.seen;
      // The environment default, the segment override (ada's stored traits match), the identity override.
      expect(environmentFlag).toEqual({ enabled: true, value: 'blue' });
      expect(adaFlag).toEqual({ enabled: true, value: 'green' });
      expect(graceFlag).toEqual({ enabled: true, value: 'gold' });
      expect(served.value.adaTraits).toEqual({ plan: 'pro', app_version: '2.3.0' });
    }

    // A change of the environment default: measured from the admin API's answer to each
    // evaluation service serving it.
    const changedAt = Date.now();
    await admin.ok('PATCH', `/environments/${environmentId}/feature-states/${feature}`, { enabled: true, value: 'red' });
    const acknowledgedMs = Date.now() - changedAt;
    const propagation = await Promise.all(
      sdks.map(async (sdk, index) => {
        await eventually(`evaluation service ${index + 1} to serve "red"`, async () => ((await sdk.flags()).get('checkout_button')?.value === 'red' ? true : undefined), {
          timeoutMs: 15_000,
          intervalMs: 10,
        });
        return Date.now() - changedAt;
      }),
    );
    for (const sdk of sdks) {
      // The segment and identity overrides still win over the new default.
      expect(flag((await sdk.identity('ada')).flags, 'checkout_button')).toEqual({ enabled: true, value: 'green' });
      expect(flag((await sdk.identity('grace')).flags, 'checkout_button')).toEqual({ enabled: true, value: 'gold' });
      expect(flag((await sdk.identity('bob')).flags, 'checkout_button')).toEqual({ enabled: true, value: 'red' });
    }

    // An SDK identifies a new identity with traits on the first evaluation service: evaluated with
    // them at once, stored through the command service, projected, and served by the second.
    const [first, second] = sdks as [SdkClient, SdkClient];
    const identified = await first.identify('lin', { plan: 'enterprise', app_version: '3.0.0' });
    expect(flag(identified.flags, 'checkout_button')).toEqual({ enabled: true, value: 'green' });
    expect(identified.traits).toEqual({ plan: 'enterprise', app_version: '3.0.0' });
    const identifiedAt = Date.now();
    const inAdmin = await eventually(
      'the identify traits in the admin API',
      async () => {
        const answer = await admin.send('GET', `/environments/${environmentId}/identities/lin`);
        return answer.status === 200 ? answer.body : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 20 },
    );
    expect(record(inAdmin.value, 'identity')['traits']).toEqual({ plan: 'enterprise', app_version: '3.0.0' });
    // A trait change of an existing identity through the SDK: ada leaves the segment.
    const downgraded = await second.identify('ada', { plan: 'free' });
    expect(flag(downgraded.flags, 'checkout_button')).toEqual({ enabled: true, value: 'red' });
    await eventually(
      "ada's new plan in the admin API",
      async () => {
        const answer = await admin.send('GET', `/environments/${environmentId}/identities/ada`);
        const traits = answer.status === 200 ? record(answer.body, 'identity')['traits'] : undefined;
        return isDeepStrictEqual(traits, { plan: 'free', app_version: '2.3.0' }) ? true : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 20 },
    );
    // Both stored identities, read back (no traits sent) from each evaluation service.
    const roundTrip = await eventually(
      'the stored identify traits on both evaluation services',
      async () => {
        const answers = await Promise.all(sdks.flatMap((sdk) => [sdk.identity('lin'), sdk.identity('ada')]));
        const settled = answers.every((answer, index) =>
          index % 2 === 0 ? answer.traits['plan'] === 'enterprise' && answer.traits['app_version'] === '3.0.0' : answer.traits['plan'] === 'free',
        );
        return settled ? answers : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 20 },
    );
    for (const [index, answer] of roundTrip.value.entries()) {
      expect(flag(answer.flags, 'checkout_button')).toEqual({ enabled: true, value: index % 2 === 0 ? 'green' : 'red' });
    }
    // OFREP on the second instance: the request's attributes are the traits.
    expect(await second.ofrep('checkout_button', { targetingKey: 'bob', plan: 'enterprise', app_version: '3.0.0' })).toBe('green');
    expect(await second.ofrep('checkout_button', { targetingKey: 'bob', plan: 'free' })).toBe('red');

    // The read models are exactly what a rebuild from the log gives.
    const idle = await waitForIdle(pipeline, redis, kafkaAdmin, 60_000);
    const comparison = await compareWithRebuild(redis, pipeline.dataDir, pipeline.readModelPrefix, pipeline.sealingKeyPrefix);
    report('end to end', {
      events: idle.head,
      topicMessages: idle.topicMessages,
      setupIdleMs: setupIdle.ms,
      changeAckMs: acknowledgedMs,
      changeVisibleMs: propagation.join('/'),
      identifyToAdminMs: inAdmin.ms,
      identifyToBothEvaluationServicesMs: Date.now() - identifiedAt,
      documentsCompared: comparison.documents,
    });
    expect({ missingInLive: comparison.missingInLive, missingInRebuild: comparison.missingInRebuild, different: comparison.different }).toEqual({
      missingInLive: [],
      missingInRebuild: [],
      different: [],
    });
    expect(comparison.documents).toBeGreaterThanOrEqual(5);
    expect(pipeline.unexpectedExits()).toEqual([]);
  }, 120_000);

  it('counts and times the SDK requests each evaluation service answers, in its /metrics', async () => {
    const evaluation = pipeline.evaluations[1];
    if (!evaluation) throw new Error('two evaluation services expected');
    const sample = (text: string, series: string): number => {
      const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
      return line === undefined ? 0 : Number(line.slice(series.length + 1));
    };
    const scrape = async (): Promise<string> => {
      const response = await fetch(`${evaluation.url}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/plain');
      return response.text();
    };
    const refused = 'flagline_evaluation_requests_total{route="flags",status="403",service="evaluation-service"}';
    const timed = 'flagline_evaluation_request_duration_seconds_count{service="evaluation-service",route="flags"}';
    const before = await scrape();
    for (let request = 0; request < 3; request++) {
      const response = await fetch(`${evaluation.url}/api/v1/flags/`, { headers: { 'x-environment-key': 'not-a-key' } });
      expect(response.status).toBe(403);
      await response.arrayBuffer();
    }
    const after = await scrape();
    expect(sample(after, refused) - sample(before, refused)).toBe(3);
    expect(sample(after, timed) - sample(before, timed)).toBe(3);
    expect(after).toContain('# TYPE flagline_evaluation_request_duration_seconds histogram');
    expect(after).toContain('flagline_evaluation_request_duration_seconds_bucket{le="+Inf",service="evaluation-service",route="flags"}');
    // The first test identified through this instance: its answers were counted too.
    expect(sample(after, 'flagline_evaluation_requests_total{route="identities",status="200",service="evaluation-service"}')).toBeGreaterThan(0);
    expect(after).toContain('process_cpu_user_seconds_total');
  });

  it('exposes consumer lag per partition, relay progress and propagation latency (to the read model and to what is served) that move as events flow, and every metric the dashboard and alerts use', async () => {
    const scrape = async (url: string): Promise<Exposition> => {
      const response = await fetch(`${url}/metrics`);
      expect(response.status).toBe(200);
      return parseExposition(await response.text());
    };
    const propagated = (metrics: Exposition): number => metrics.sum('flagline_projector_propagation_seconds_count');
    const before = {
      projector: await scrape(pipeline.projector.url),
      relay: await scrape(pipeline.relay.url),
      evaluations: await Promise.all(pipeline.evaluations.map((evaluation) => scrape(evaluation.url))),
    };
    const admin = pipeline.admin;
    const organisation = numberAt(await admin.ok('POST', '/organisations', { name: 'Metrics Inc' }), 'id');
    const project = numberAt(await admin.ok('POST', '/projects', { organisation, name: 'Observed' }), 'id');
    await admin.ok('POST', `/projects/${project}/environments`, { name: 'Production' });
    for (let index = 0; index < 5; index++) await admin.ok('POST', `/projects/${project}/features`, { name: `metered_${index}` });
    // Nine events at least (organisation, project, environment, five features and their states).
    const { value: after } = await eventually(
      'the projector to report the new events propagated and its lag back to 0',
      async () => {
        const projector = await scrape(pipeline.projector.url);
        const lags = projector.matching('flagline_kafka_consumer_lag', { group: pipeline.groupId });
        return propagated(projector) - propagated(before.projector) >= 8 && lags.length > 0 && lags.every((lag) => lag.value === 0) ? projector : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    // One series per partition the member owns (here all of them), on this pipeline's topic.
    const partitions = after.matching('flagline_kafka_consumer_lag', { group: pipeline.groupId, topic: pipeline.topic }).map((lag) => Number(lag.labels['partition']));
    expect(partitions.length).toBeGreaterThan(0);
    expect(new Set(partitions).size).toBe(partitions.length);
    // Propagation: recorded → read model, observed for each event, under the 5-minute top bucket.
    const count = propagated(after) - propagated(before.projector);
    const sum = after.sum('flagline_projector_propagation_seconds_sum') - before.projector.sum('flagline_projector_propagation_seconds_sum');
    expect(sum).toBeGreaterThan(0);
    expect(sum / count).toBeLessThan(30);
    const { value: relay } = await eventually(
      'the relay to report the events published and no lag',
      async () => {
        const metrics = await scrape(pipeline.relay.url);
        return metrics.sum('flagline_relay_published_events_total') - before.relay.sum('flagline_relay_published_events_total') >= 8 && metrics.value('flagline_relay_lag_events') === 0
          ? metrics
          : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(relay.value('flagline_relay_position')).toBeGreaterThan(before.relay.value('flagline_relay_position') ?? 0);
    // And to what each evaluation service serves: the changes notified were timed there too.
    for (const [index, evaluation] of pipeline.evaluations.entries()) {
      const timed = (metrics: Exposition): number => metrics.sum('flagline_evaluation_propagation_seconds_count');
      const { value: metrics } = await eventually(
        `${evaluation.label} to time the changes it serves`,
        async () => {
          const now = await scrape(evaluation.url);
          return timed(now) > timed(before.evaluations[index] as Exposition) ? now : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 100 },
      );
      expect(metrics.sum('flagline_evaluation_propagation_seconds_sum') / timed(metrics)).toBeLessThan(30);
    }
    // Every service ready, every dependency up, in its metrics as in its readiness.
    const services = [pipeline.command, pipeline.relay, pipeline.projector, ...pipeline.evaluations];
    for (const service of services) {
      const metrics = await scrape(service.url);
      expect({ service: service.label, ready: metrics.value('flagline_ready') }).toEqual({ service: service.label, ready: 1 });
      expect(metrics.matching('flagline_dependency_up').filter((sample) => sample.value !== 1)).toEqual([]);
      expect((await fetch(`${service.url}/health/ready`)).status).toBe(200);
    }
    // The dashboard and the alerts use only names these four services expose.
    const exposed = new Set<string>(PROMETHEUS_OWN_METRICS);
    for (const service of services) for (const name of await exposedNames(service.url)) exposed.add(name);
    expect(allQueries().flatMap((query) => metricNames(query.expr).filter((name) => !exposed.has(name)).map((name) => `${query.source}: ${name}`))).toEqual([]);
  }, 90_000);

  it('names the organisation in the environment document on both evaluation services, and follows its rename (another stream, another partition)', async () => {
    const admin = pipeline.admin;
    const organisation = numberAt(await admin.ok('POST', '/organisations', { name: 'Initech' }), 'id');
    const project = numberAt(await admin.ok('POST', '/projects', { organisation, name: 'Payroll' }), 'id');
    const environmentId = numberAt(await admin.ok('POST', `/projects/${project}/environments`, { name: 'Production' }), 'id');
    const serverKey = stringAt(await admin.ok('POST', `/environments/${environmentId}/api-keys`, { name: 'local' }), 'key');
    const organisationNames = async (): Promise<unknown[]> =>
      Promise.all(
        pipeline.evaluations.map(async (evaluation) => {
          const response = await fetch(`${evaluation.url}/api/v1/environment-document/`, { headers: { 'x-environment-key': serverKey } });
          if (response.status !== 200) return `HTTP ${response.status}`;
          return record(record(record(await response.json(), 'document')['project'], 'project')['organisation'], 'organisation')['name'];
        }),
      );
    const seen = async (name: string) =>
      eventually(`both evaluation services to name the organisation "${name}"`, async () => ((await organisationNames()).every((value) => value === name) ? true : undefined), {
        timeoutMs: 15_000,
        intervalMs: 20,
      });
    await seen('Initech');
    await admin.ok('PATCH', `/organisations/${organisation}`, { name: 'Initrode' });
    await seen('Initrode');

    await waitForIdle(pipeline, redis, kafkaAdmin, 60_000);
    const comparison = await compareWithRebuild(redis, pipeline.dataDir, pipeline.readModelPrefix, pipeline.sealingKeyPrefix);
    expect({ missingInLive: comparison.missingInLive, missingInRebuild: comparison.missingInRebuild, different: comparison.different }).toEqual({
      missingInLive: [],
      missingInRebuild: [],
      different: [],
    });
  }, 120_000);
});
