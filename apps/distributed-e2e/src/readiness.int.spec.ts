// Health that tells the truth under faults, on the real brokers (a private Redis and Kafka, stopped
// and started here): while Redis or Kafka is down, each service whose progress needs it answers
// /health/ready with 503 naming the dependency, its metrics say the dependency is down, and the
// evaluation services keep serving, ready but degraded, with the same staleness on both replicas
// (counted from the moment they lost Redis). Everything is ready again once the broker is back.
import { describeWithInfra, withOwnKafka, withOwnRedis } from '@flagline/infra-testing';
import { parseExposition } from '@flagline/observability';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pipeline } from './testing/pipeline';
import { report } from './testing/report';
import type { ServiceProcess } from './testing/service-process';
import { eventually, sleep } from './testing/wait';

interface Readiness {
  readonly status: number;
  readonly body: { readonly status?: string; readonly stalenessMs?: number; readonly checks?: Record<string, { ok: boolean; reason?: string; since: string }> };
}

async function readiness(service: ServiceProcess): Promise<Readiness> {
  const response = await fetch(`${service.url}/health/ready`, { signal: AbortSignal.timeout(2000) });
  return { status: response.status, body: (await response.json()) as Readiness['body'] };
}

async function dependencyUp(service: ServiceProcess, dependency: string): Promise<number | undefined> {
  const response = await fetch(`${service.url}/metrics`, { signal: AbortSignal.timeout(2000) });
  return parseExposition(await response.text()).value('flagline_dependency_up', { dependency });
}

/** Waits until `service` is unready with `check` failing, and returns the answer. */
async function unreadyOn(service: ServiceProcess, check: string, timeoutMs: number): Promise<Readiness> {
  const { value } = await eventually(
    `${service.label} to be unready with ${check} failing`,
    async () => {
      const answer = await readiness(service);
      return answer.status === 503 && answer.body.checks?.[check]?.ok === false ? answer : undefined;
    },
    { timeoutMs, intervalMs: 100 },
  );
  return value;
}

async function allReady(services: readonly ServiceProcess[], timeoutMs: number): Promise<number> {
  let last: string[] = [];
  const { ms } = await eventually(
    'every service to be ready again',
    async () => {
      const answers = await Promise.all(services.map((service) => readiness(service).catch((error: unknown) => ({ status: 0, body: { status: String(error) } }))));
      last = answers.filter((answer) => answer.status !== 200 || answer.body.status !== 'ok').map((answer, index) => `${services[index]?.label ?? '?'}: ${answer.status} ${JSON.stringify(answer.body)}`);
      return last.length === 0 ? true : undefined;
    },
    { timeoutMs, intervalMs: 100, describe: () => last.join('\n') },
  );
  return ms;
}

describeWithInfra(
  'readiness and dependency metrics under faults (private Kafka and Redis)',
  () => {
    const kafka = withOwnKafka();
    const redisServer = withOwnRedis({ appendOnly: true, appendFsync: 'always' });
    let pipeline: Pipeline;
    let services: ServiceProcess[];

    beforeAll(async () => {
      const workDir = mkdtempSync(join(tmpdir(), 'flagline-e2e-readiness-'));
      pipeline = new Pipeline({ redisUrl: redisServer().url, kafkaBrokers: kafka().brokers, workDir, evaluationInstances: 2, pollIntervalMs: 600_000 });
      await pipeline.start();
      services = [pipeline.command, pipeline.relay, pipeline.projector, ...pipeline.evaluations];
      await pipeline.admin.ok('POST', '/organisations', { name: 'Readiness' });
      await allReady(services, 30_000);
    }, 180_000);

    afterAll(async () => {
      await pipeline?.close();
    });

    it('while Redis is down: relay, projector and command service answer 503 naming redis; the evaluation services stay ready, degraded, equally stale', async () => {
      await redisServer().stop();
      const downAt = Date.now();
      try {
        for (const service of [pipeline.relay, pipeline.projector, pipeline.command]) {
          const answer = await unreadyOn(service, 'redis', 15_000);
          expect(answer.body.status).toBe('unavailable');
          expect(answer.body.checks?.['redis']?.reason).toMatch(/connection|ECONNREFUSED|closed/i);
          expect(await dependencyUp(service, 'redis')).toBe(0);
        }
        await sleep(Math.max(0, 3000 - (Date.now() - downAt)));
        const answers = await Promise.all(pipeline.evaluations.map((evaluation) => readiness(evaluation)));
        for (const answer of answers) {
          expect(answer.status).toBe(200);
          expect(answer.body.status).toBe('degraded');
          expect(answer.body.checks?.['redis']?.ok).toBe(false);
        }
        const staleness = answers.map((answer) => answer.body.stalenessMs ?? -1);
        report('redis outage staleness', { replicaMs: staleness.join(' and '), sinceStopMs: Date.now() - downAt });
        // Both lost Redis when it stopped: the same staleness, give or take the two requests' gap
        // and when each noticed the closed connection.
        expect(Math.min(...staleness)).toBeGreaterThanOrEqual(2000);
        expect(Math.max(...staleness) - Math.min(...staleness)).toBeLessThan(1000);
        for (const evaluation of pipeline.evaluations) expect(await dependencyUp(evaluation, 'redis')).toBe(0);
      } finally {
        await redisServer().start();
      }
      const readyMs = await allReady(services, 30_000);
      report('redis outage', { readyAgainMs: readyMs });
      for (const evaluation of pipeline.evaluations) expect((await readiness(evaluation)).body.stalenessMs).toBe(0);
    }, 90_000);

    it('while Kafka is down: the relay and the projector answer 503 naming kafka; the others stay ready', async () => {
      await kafka().stop();
      try {
        const relay = await unreadyOn(pipeline.relay, 'kafka', 20_000);
        expect(relay.body.checks?.['kafka']?.reason).toContain('not answering');
        const projector = await unreadyOn(pipeline.projector, 'kafka-brokers', 20_000);
        expect(projector.body.checks?.['kafka-brokers']?.reason).toContain('not answering');
        for (const service of [pipeline.relay, pipeline.projector]) expect(await dependencyUp(service, 'kafka')).toBe(0);
        for (const service of [pipeline.command, ...pipeline.evaluations]) expect((await readiness(service)).status).toBe(200);
      } finally {
        await kafka().start();
      }
      const readyMs = await allReady(services, 60_000);
      report('kafka outage', { readyAgainMs: readyMs });
    }, 120_000);
  },
  { own: ['redis', 'kafka'] },
);
