// Fault tests of the distributed mode, every service its own process, on a private Kafka broker
// and a private Redis server that the tests stop and start: services killed mid-stream, Redis
// stopped under evaluation load, the evaluation service's notification connection dropped alone,
// Kafka stopped while commands arrive. After the kills and each outage, the Redis read models
// must equal a fresh rebuild from the event log, byte for byte.
import { describeWithInfra, kafkaClient, withOwnKafka, withOwnRedis } from '@flagline/infra-testing';
import { Redis } from 'ioredis';
import type { Admin } from 'kafkajs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { environmentSdk as sdkOf, expectRebuildEquality as expectEqualToRebuild, fleetServed as environmentsServed, IDLE_TIMEOUT_MS } from './testing/audits';
import { createFleet, type Fleet, type FleetEnvironment } from './testing/fleet';
import { httpRequest, numberAt, stringAt, type HttpAnswer, type SdkClient } from './testing/http';
import { runHttpLoad, sample, signal, type LoadRequest } from './testing/load';
import { Pipeline } from './testing/pipeline';
import { isRelayed, readLog, waitForIdle, type IdleReport, type RebuildComparison } from './testing/read-model-audit';
import { report } from './testing/report';
import { eventually, runSeed, seededRandom, sleep } from './testing/wait';

/** A projector restarted while killed members still hold their group sessions waits them out (KAFKA_SESSION_TIMEOUT_MS, 1 s); the rest is a cold start on busy cores. */
const RESTART_READY_TIMEOUT_MS = 90_000;
const KAFKA_DOWN_MS = 12_000;
/** How a projector reports that its consumer group did not let it join in time. */
const JOIN_TIMEOUT = /Consumer group \S+ not joined within/;

/** One admin API request of the load; every one changes something, so each appends at least one event. */
interface Command {
  readonly kind: 'feature-state' | 'traits' | 'identity-override' | 'segment-override' | 'segment-rules' | 'new-feature';
  readonly method: 'PATCH' | 'PUT' | 'POST';
  readonly path: string;
  readonly body: Readonly<Record<string, unknown>>;
}

const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

const isOk = (answer: HttpAnswer): boolean => answer.status >= 200 && answer.status <= 299;

interface Health {
  readonly status: string;
  readonly stalenessMs: number;
}

async function health(url: string): Promise<Health> {
  const answer = await httpRequest('GET', `${url}/health`, { timeoutMs: 2000 });
  return { status: stringAt(answer.body, 'status'), stalenessMs: numberAt(answer.body, 'stalenessMs') };
}

describeWithInfra(
  'distributed mode under faults (private Kafka and Redis)',
  () => {
    const kafka = withOwnKafka();
    // Append-only with fsync: a stopped Redis comes back with its read models and checkpoints.
    const redisServer = withOwnRedis({ appendOnly: true, appendFsync: 'always' });
    const seed = runSeed();
    const random = seededRandom(seed);
    let pipeline: Pipeline;
    let redis: Redis;
    let kafkaAdmin: Admin;
    let fleet: Fleet;

    beforeAll(async () => {
      const workDir = mkdtempSync(join(tmpdir(), 'flagline-e2e-faults-'));
      // No full refresh during the run: the evaluation service keeps up through notifications and
      // reloads on reconnection, or the tests see it serve stale flags.
      pipeline = new Pipeline({ redisUrl: redisServer().url, kafkaBrokers: kafka().brokers, workDir, evaluationInstances: 1, pollIntervalMs: 600_000 });
      const started = Date.now();
      try {
        await pipeline.start();
      } finally {
        report('fault pipeline', { seed, workDir, startMs: Date.now() - started });
      }
      redis = new Redis(redisServer().url, { maxRetriesPerRequest: 1 });
      redis.on('error', () => undefined);
      kafkaAdmin = kafkaClient(kafka().brokers).admin();
      await kafkaAdmin.connect();
      fleet = await createFleet(pipeline.admin, { projects: 3, environmentsPerProject: 2, featuresPerProject: 3, identitiesPerEnvironment: 4 });
    }, 180_000);

    afterAll(async () => {
      await pipeline?.close();
      await kafkaAdmin?.disconnect().catch(() => undefined);
      redis?.disconnect();
    });

    /** Waits for the pipeline to be idle, then checks the live read models against a rebuild from the log. */
    // 3 projects, 6 environments, 24 identities at least: an empty comparison proves nothing.
    const expectRebuildEquality = (): Promise<{ idle: IdleReport; comparison: RebuildComparison }> => expectEqualToRebuild(pipeline, redis, kafkaAdmin, 33);

    /**
     * Waits for the restarted projector. Killed members keep their group sessions (1 s), and a
     * rebalance waits for them; the projector gives up joining after 60 s and exits
     * (fail fast, for its orchestrator to restart it). It is restarted here as an orchestrator
     * would, and the restarts are counted.
     */
    async function projectorReady(): Promise<number> {
      for (let restarts = 0; ; restarts++) {
        try {
          await pipeline.projector.waitReady(RESTART_READY_TIMEOUT_MS);
          return restarts;
        } catch (error: unknown) {
          if (pipeline.projector.running || !JOIN_TIMEOUT.test(pipeline.projector.unexpectedExits.at(-1) ?? '') || restarts >= 2) throw error;
          pipeline.projector.start();
        }
      }
    }

    /** Each test may run alone (`-t`): the fleet must be projected and served before it starts. */
    const fleetServed = (): Promise<void> => environmentsServed(pipeline, redis, kafkaAdmin, fleet.environments);

    const environmentSdk = (environment: FleetEnvironment): SdkClient => sdkOf(pipeline, environment);

    it('equals a rebuild from the log byte for byte after the projector and the relay are SIGKILLed and restarted while 1,000 commands flow', async () => {
      const admin = pipeline.admin;
      const TOTAL = 1000;
      const INTERVAL_MS = 20;
      const CONCURRENCY = 6;
      const KILLS = 8;
      // Everything random is drawn up front from the seed, so a failing run can be replayed.
      const commands: Command[] = Array.from({ length: TOTAL }, (_, i): Command => {
        const environment = pick(random, fleet.environments);
        const feature = pick(random, environment.features);
        const identifier = pick(random, environment.identifiers);
        const r = random();
        if (r < 0.4) return { kind: 'feature-state', method: 'PATCH', path: `/environments/${environment.id}/feature-states/${feature.id}`, body: { enabled: random() < 0.5, value: `v${i}` } };
        if (r < 0.7) {
          // `command` makes every write a change: an unchanged trait write appends no event.
          const traits = { score: Math.floor(random() * 100), plan: pick(random, ['free', 'pro', 'enterprise']), command: i };
          return { kind: 'traits', method: 'PATCH', path: `/environments/${environment.id}/identities/${identifier}/traits`, body: { traits } };
        }
        if (r < 0.8) {
          return { kind: 'identity-override', method: 'PUT', path: `/environments/${environment.id}/identities/${identifier}/overrides/${feature.id}`, body: { enabled: random() < 0.5, value: `o${i}` } };
        }
        const overridden = environment.features[0] as { id: number };
        if (r < 0.9) {
          return {
            kind: 'segment-override',
            method: 'PATCH',
            path: `/environments/${environment.id}/segment-overrides/${overridden.id}/${environment.segmentId}`,
            body: { enabled: random() < 0.5, value: `s${i}` },
          };
        }
        if (r < 0.95) {
          // A project-wide change: the segment's rules, in every environment of the project.
          const rules = [{ type: 'ALL', conditions: [{ property: 'score', operator: 'GREATER_THAN_INCLUSIVE', value: 10 + Math.floor(random() * 80) }] }];
          return { kind: 'segment-rules', method: 'PATCH', path: `/projects/${environment.projectId}/segments/${environment.segmentId}`, body: { rules, description: `revision ${i}` } };
        }
        // A new feature: a state in every environment of the project, and numeric ids from the id sequence.
        return { kind: 'new-feature', method: 'POST', path: `/projects/${environment.projectId}/features`, body: { name: `extra_${i}`, defaultEnabled: random() < 0.5, initialValue: `x${i}` } };
      });
      const loadMs = TOTAL * INTERVAL_MS;
      const targets: ('projector' | 'relay')[] = Array.from({ length: KILLS }, (_, k) => (k % 2 === 0 ? 'projector' : 'relay'));
      for (let k = targets.length - 1; k > 0; k--) {
        const j = Math.floor(random() * (k + 1));
        [targets[k], targets[j]] = [targets[j] as 'projector' | 'relay', targets[k] as 'projector' | 'relay'];
      }
      // Spread over the load, each at a random point within its own slot.
      const schedule = targets.map((target, k) => ({ target, atMs: Math.round(((k + 0.2 + random() * 0.6) * loadMs) / KILLS) }));
      // The last relay kill also moves its checkpoint back, as if it had crashed after Kafka
      // acknowledged a long stretch but before the checkpoint write: everything since is
      // published a second time, and the projector must ignore all of it.
      const rewindAt = schedule.map((kill) => kill.target).lastIndexOf('relay');
      const rewindFraction = 0.3 + random() * 0.4;
      let rewound = { from: 0, to: 0 };

      const eventsBefore = (await readLog(pipeline.dataDir)).at(-1)?.globalPosition ?? 0;
      const started = Date.now();
      let next = 0;
      let acknowledged = 0;
      const failures: string[] = [];
      const worker = async (): Promise<void> => {
        for (;;) {
          const index = next++;
          if (index >= TOTAL) return;
          const due = started + index * INTERVAL_MS;
          if (due > Date.now()) await sleep(due - Date.now());
          const command = commands[index] as Command;
          const answer = await admin.send(command.method, command.path, command.body);
          if (isOk(answer)) acknowledged++;
          else failures.push(`${command.kind} ${command.path}: ${answer.status} ${answer.text}`);
        }
      };
      const kills = { projector: 0, relay: 0 };
      const killLog: string[] = [];
      const killer = async (): Promise<void> => {
        for (const [k, { target, atMs }] of schedule.entries()) {
          const due = started + atMs;
          if (due > Date.now()) await sleep(due - Date.now());
          const service = pipeline[target];
          // Listening: started and serving (the projector listens once it joined its group).
          const state = service.listening() ? 'listening' : 'starting';
          await service.kill();
          kills[target]++;
          let rewind = '';
          if (k === rewindAt) {
            const from = Number((await redis.get(pipeline.relayCheckpointKey)) ?? '0');
            rewound = { from, to: Math.floor(from * rewindFraction) };
            await redis.set(pipeline.relayCheckpointKey, String(rewound.to));
            rewind = `, checkpoint ${rewound.from}->${rewound.to}`;
          }
          killLog.push(`${target}@${Date.now() - started}ms(${acknowledged} acked, ${state}${rewind})`);
          // Restarted at once, without waiting for it to be ready: the next kill may land while it starts.
          service.start();
        }
      };
      await Promise.all([...Array.from({ length: CONCURRENCY }, () => worker()), killer()]);
      const loadEnded = Date.now();

      const [, joinTimeoutRestarts] = await Promise.all([pipeline.relay.waitReady(RESTART_READY_TIMEOUT_MS), projectorReady()]);
      const readyMs = Date.now() - loadEnded;
      const { idle, comparison } = await expectRebuildEquality();
      const events = await readLog(pipeline.dataDir);
      const relayed = events.filter(isRelayed).length;
      const republishedByRewind = events.filter((event) => isRelayed(event) && event.globalPosition > rewound.to && event.globalPosition <= rewound.from).length;
      const byKind: Record<string, number> = {};
      for (const command of commands) byKind[command.kind] = (byKind[command.kind] ?? 0) + 1;
      report('kill -9 projector and relay', {
        seed,
        commands: TOTAL,
        byKind: JSON.stringify(byKind),
        acknowledged,
        loadMs: loadEnded - started,
        eventsAppended: idle.head - eventsBefore,
        relayedEventsInLog: relayed,
        topicMessages: idle.topicMessages,
        republishedDuplicates: idle.topicMessages - relayed,
        republishedByRewind,
        projectorKills: kills.projector,
        relayKills: kills.relay,
        kills: killLog.join(' '),
        restartedReadyMs: readyMs,
        projectorJoinTimeoutRestarts: joinTimeoutRestarts,
        convergeAfterLoadMs: Date.now() - loadEnded - comparison.rebuildMs,
        rebuildMs: comparison.rebuildMs,
        documentsCompared: comparison.documents,
        checkpointsCompared: comparison.checkpoints,
      });
      expect(failures).toEqual([]);
      expect(acknowledged).toBe(TOTAL);
      expect(idle.head - eventsBefore).toBeGreaterThanOrEqual(TOTAL);
      expect(kills.projector).toBeGreaterThanOrEqual(3);
      expect(kills.relay).toBeGreaterThanOrEqual(3);
      // Nothing relayed is missing from the topic, and the rewound stretch went out a second time.
      expect(idle.topicMessages - relayed).toBeGreaterThanOrEqual(republishedByRewind);
      expect(republishedByRewind).toBeGreaterThanOrEqual(100);
      expect(pipeline.unexpectedExits().filter((exit) => !(exit.startsWith('projector:') && JOIN_TIMEOUT.test(exit)))).toEqual([]);
    }, 240_000);

    it('answers every SDK request with 2xx while Redis is stopped and started; /health degrades with growing staleness, recovers, and a later change arrives', async () => {
      const evaluation = pipeline.evaluations[0];
      if (!evaluation) throw new Error('no evaluation service');
      const requests: LoadRequest[] = [];
      for (const environment of fleet.environments) {
        const headers = { 'x-environment-key': environment.clientKey };
        requests.push({ url: `${evaluation.url}/api/v1/flags/`, headers });
        for (const identifier of environment.identifiers) requests.push({ url: `${evaluation.url}/api/v1/identities/?identifier=${identifier}`, headers });
      }
      await fleetServed();
      // Every identity read once, so the evaluation service holds it in its cache.
      for (const environment of fleet.environments) for (const identifier of environment.identifiers) await environmentSdk(environment).identity(identifier);
      expect(await health(evaluation.url)).toEqual({ status: 'ok', stalenessMs: 0 });

      const stopLoad = signal();
      const load = runHttpLoad(12, (n) => requests[n % requests.length] as LoadRequest, stopLoad.promise);
      const healthSamples = sample(200, () => health(evaluation.url), stopLoad.promise);
      const [outageEnvironment] = fleet.environments as [FleetEnvironment];
      const outageFeature = outageEnvironment.features[2] as { id: number; name: string };
      const outageValue = `during-redis-outage-${seed}`;
      let downAt = 0;
      let restartAt = 0;
      let upAt = 0;
      let recovered: { value: Health; ms: number };
      let outageChangeVisibleMs: number;
      try {
        await sleep(1000);
        await redisServer().stop();
        downAt = Date.now();
        // A change while Redis is down: the command service takes it, the projector waits for Redis.
        await pipeline.admin.ok('PATCH', `/environments/${outageEnvironment.id}/feature-states/${outageFeature.id}`, { enabled: true, value: outageValue });
        await sleep(4000 - (Date.now() - downAt));
        restartAt = Date.now();
        await redisServer().start();
        upAt = Date.now();
        recovered = await eventually(
          '/health to be ok again',
          async () => {
            const now = await health(evaluation.url);
            return now.status === 'ok' && now.stalenessMs === 0 ? now : undefined;
          },
          { timeoutMs: 15_000, intervalMs: 50 },
        );
        // No full refresh is due for minutes: the change comes from the reload on reconnect or a notification.
        await eventually(
          'the change made while Redis was down in the evaluation API',
          async () => ((await environmentSdk(outageEnvironment).flags()).get(outageFeature.name)?.value === outageValue ? true : undefined),
          { timeoutMs: 30_000, intervalMs: 20 },
        ).catch(async (error: unknown) => {
          // Which side missed it: the projector (not in Redis) or the evaluation service (in Redis, not served).
          const document = await redis.get(`${pipeline.readModelPrefix}doc:environment:${outageEnvironment.id}`).catch((e: unknown) => `(unreadable: ${String(e)})`);
          const where = document?.includes(outageValue) ? 'the Redis read model HAS it, the evaluation service does not serve it' : 'the Redis read model does NOT have it';
          throw new Error(`${error instanceof Error ? error.message : String(error)}: ${where}; evaluation /health ${JSON.stringify(await health(evaluation.url))}`);
        });
        outageChangeVisibleMs = Date.now() - upAt;
        await sleep(1000);
      } finally {
        stopLoad.fire();
      }
      const [stats, samples] = await Promise.all([load, healthSamples]);

      const duringOutage = stats.answeredAt.filter((at) => at > downAt && at < restartAt).length;
      const outageSamples = samples.filter((s) => s.at > downAt + 300 && s.at < restartAt);
      const outageHealth = outageSamples.map((s) => (s.value instanceof Error ? { status: `error: ${s.value.message}`, stalenessMs: -1 } : s.value));
      const staleness = outageHealth.map((h) => h.stalenessMs);

      // A change made once Redis is back reaches the evaluation API.
      const [environment] = fleet.environments as [FleetEnvironment];
      const feature = environment.features[1] as { id: number; name: string };
      const changedAt = Date.now();
      await pipeline.admin.ok('PATCH', `/environments/${environment.id}/feature-states/${feature.id}`, { enabled: true, value: `after-redis-${seed}` });
      await eventually(
        'the change made after the Redis restart in the evaluation API',
        async () => ((await environmentSdk(environment).flags()).get(feature.name)?.value === `after-redis-${seed}` ? true : undefined),
        { timeoutMs: 30_000, intervalMs: 20 },
      );
      const changeVisibleMs = Date.now() - changedAt;
      const { comparison } = await expectRebuildEquality();
      report('Redis stopped under evaluation load', {
        requests: stats.total,
        byStatus: JSON.stringify(stats.byStatus),
        errors: stats.errors.length,
        answeredWhileRedisDown: duringOutage,
        maxLatencyMs: stats.maxLatencyMs,
        redisDownMs: restartAt - downAt,
        redisStartMs: upAt - restartAt,
        healthOkAfterStartMs: recovered.ms,
        outageChangeVisibleAfterStartMs: outageChangeVisibleMs,
        stalenessSamplesMs: `${staleness[0] ?? '-'}..${staleness.at(-1) ?? '-'} (${staleness.length} samples)`,
        changeAfterRestartVisibleMs: changeVisibleMs,
        documentsCompared: comparison.documents,
      });
      expect(stats.errors.slice(0, 5)).toEqual([]);
      expect(stats.failures).toEqual([]);
      expect(Object.keys(stats.byStatus).filter((status) => !status.startsWith('2'))).toEqual([]);
      expect(duringOutage).toBeGreaterThanOrEqual(100);
      expect(outageHealth.length).toBeGreaterThanOrEqual(5);
      expect(outageHealth.filter((h) => h.status !== 'degraded')).toEqual([]);
      // Growing: each sample staler than the one before, spanning most of the outage.
      expect(staleness.every((value, index) => index === 0 || value > (staleness[index - 1] as number))).toBe(true);
      expect((staleness.at(-1) ?? 0) - (staleness[0] ?? 0)).toBeGreaterThanOrEqual(2500);
      expect(recovered.value).toEqual({ status: 'ok', stalenessMs: 0 });
      expect(pipeline.unexpectedExits()).toEqual([]);
    }, 120_000);

    it('serves a change committed while only its notification connection was down (no full refresh due)', async () => {
      await fleetServed();
      const environment = fleet.environments[1] as FleetEnvironment;
      const feature = environment.features[1] as { id: number; name: string };
      const value = `after-pubsub-drop-${seed}`;
      // Redis drops a pub/sub client on its own (a subscriber over its output-buffer limit) or a
      // network blip drops one connection: the evaluation service's command connection stays up,
      // so nothing but the notification connection tells it that something may have been missed.
      let dropping = true;
      let dropped = 0;
      const dropper = (async () => {
        while (dropping) {
          dropped += Number(await redis.call('CLIENT', 'KILL', 'TYPE', 'pubsub'));
          await sleep(5);
        }
      })();
      const changedAt = Date.now();
      try {
        await pipeline.admin.ok('PATCH', `/environments/${environment.id}/feature-states/${feature.id}`, { enabled: true, value });
        // Projected (in Redis, notification published) while the connection kept being dropped.
        await waitForIdle(pipeline, redis, kafkaAdmin, IDLE_TIMEOUT_MS);
        await sleep(200);
      } finally {
        dropping = false;
        await dropper;
      }
      const served = await eventually(
        'the change committed while the notification connection was down',
        async () => ((await environmentSdk(environment).flags()).get(feature.name)?.value === value ? true : undefined),
        { timeoutMs: 15_000, intervalMs: 20 },
      ).catch(async (error: unknown) => {
        const document = await redis.get(`${pipeline.readModelPrefix}doc:environment:${environment.id}`);
        const where = document?.includes(value) ? 'the Redis read model HAS it, the evaluation service does not serve it' : 'the Redis read model does NOT have it';
        throw new Error(`${error instanceof Error ? error.message : String(error)}: ${where} (${dropped} pub/sub connections dropped)`);
      });
      report('notification connection dropped', { pubsubConnectionsDropped: dropped, droppedForMs: Date.now() - changedAt - served.ms, visibleAfterReconnectMs: served.ms });
      expect(dropped).toBeGreaterThan(0);
      expect(pipeline.unexpectedExits()).toEqual([]);
    }, 60_000);

    it('brings every command acknowledged while Kafka was stopped into the read models once Kafka is back', async () => {
      await fleetServed();
      const admin = pipeline.admin;
      const WORKERS = 6;
      const PAUSE_MS = 120;
      const featureSlots = fleet.environments.flatMap((environment) => environment.features.map((feature) => ({ environment, feature })));
      const identitySlots = fleet.environments.flatMap((environment) => environment.identifiers.map((identifier) => ({ environment, identifier })));
      // Each worker owns its slots, so the last acknowledged write of a slot is its final value.
      const expectedStates = new Map<string, { enabled: boolean; value: string }>();
      const expectedTraits = new Map<string, Record<string, number>>();
      const acknowledgedAt: number[] = [];
      const failures: string[] = [];
      const stop = signal();
      let stopped = false;
      void stop.promise.then(() => (stopped = true));
      const createdFeatures: { projectId: number; name: string; value: string }[] = [];
      const worker = async (w: number): Promise<void> => {
        const features = featureSlots.filter((_, index) => index % WORKERS === w);
        const identities = identitySlots.filter((_, index) => index % WORKERS === w);
        const projectId = (features[0] as (typeof featureSlots)[number]).environment.projectId;
        const turns = { state: 0, traits: 0 };
        for (let seq = 0; !stopped; seq++) {
          const step = seq % 4;
          if (step === 0 || step === 2) {
            const slot = features[turns.state++ % features.length] as (typeof featureSlots)[number];
            const body = { enabled: seq % 8 === 0, value: `kafka-${w}-${seq}` };
            const answer = await admin.send('PATCH', `/environments/${slot.environment.id}/feature-states/${slot.feature.id}`, body);
            if (isOk(answer)) {
              expectedStates.set(`${slot.environment.id}/${slot.feature.name}`, body);
              acknowledgedAt.push(Date.now());
            } else failures.push(`feature state ${slot.environment.id}/${slot.feature.id}: ${answer.status} ${answer.text}`);
          } else if (step === 1) {
            const slot = identities[turns.traits++ % identities.length] as (typeof identitySlots)[number];
            const key = `t_${w}_${seq}`;
            const answer = await admin.send('PATCH', `/environments/${slot.environment.id}/identities/${slot.identifier}/traits`, { traits: { [key]: seq } });
            if (isOk(answer)) {
              const slotKey = `${slot.environment.id}/${slot.identifier}`;
              expectedTraits.set(slotKey, { ...expectedTraits.get(slotKey), [key]: seq });
              acknowledgedAt.push(Date.now());
            } else failures.push(`traits ${slot.environment.id}/${slot.identifier}: ${answer.status} ${answer.text}`);
          } else {
            // A new feature: project-wide, with ids from the id sequence.
            const feature = { projectId, name: `kafka_${w}_${seq}`, value: `created-${w}-${seq}` };
            const answer = await admin.send('POST', `/projects/${projectId}/features`, { name: feature.name, defaultEnabled: true, initialValue: feature.value });
            if (isOk(answer)) {
              createdFeatures.push(feature);
              acknowledgedAt.push(Date.now());
            } else failures.push(`new feature ${feature.name}: ${answer.status} ${answer.text}`);
          }
          await sleep(PAUSE_MS);
        }
      };
      const RELAY_RESTART = 'relay stopped; resuming from its checkpoint';
      const relayRestartsBefore = pipeline.relay.countInLog(RELAY_RESTART);
      const relayRestarts = (): number => pipeline.relay.countInLog(RELAY_RESTART) - relayRestartsBefore;
      const workers = Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
      let stopRequestedAt = 0;
      let downAt = 0;
      let restartAt = 0;
      let upAt = 0;
      try {
        await sleep(1000);
        stopRequestedAt = Date.now();
        await kafka().stop();
        downAt = Date.now();
        // Many reconnection attempts (one a second at most, KAFKA_RECONNECT_RETRY): the relay's
        // publish and the projector's fetches wait through the outage and carry on after it.
        await sleep(KAFKA_DOWN_MS);
        restartAt = Date.now();
        await kafka().start();
        upAt = Date.now();
        await sleep(1000);
      } finally {
        stop.fire();
        await workers;
      }

      const { idle, comparison } = await expectRebuildEquality();
      const convergedAt = Date.now() - comparison.rebuildMs;
      // The final values in the evaluation API: every slot's last acknowledged state, every acknowledged trait.
      const mismatches = async (): Promise<string[]> => {
        const found: string[] = [];
        for (const environment of fleet.environments) {
          const sdk = environmentSdk(environment);
          const flags = await sdk.flags();
          for (const feature of environment.features) {
            const expected = expectedStates.get(`${environment.id}/${feature.name}`);
            const served = flags.get(feature.name);
            if (expected && (served?.enabled !== expected.enabled || served.value !== expected.value)) {
              found.push(`${environment.id}/${feature.name}: served ${JSON.stringify(served)}, acknowledged ${JSON.stringify(expected)}`);
            }
          }
          for (const feature of createdFeatures.filter((created) => created.projectId === environment.projectId)) {
            const served = flags.get(feature.name);
            if (served?.enabled !== true || served.value !== feature.value) found.push(`${environment.id}/${feature.name} (created): served ${JSON.stringify(served)}`);
          }
          for (const identifier of environment.identifiers) {
            const expected = expectedTraits.get(`${environment.id}/${identifier}`) ?? {};
            const { traits } = await sdk.identity(identifier);
            const missing = Object.entries(expected).filter(([key, value]) => traits[key] !== value);
            if (missing.length > 0) found.push(`${environment.id}/${identifier}: missing traits ${JSON.stringify(missing)}`);
          }
        }
        return found;
      };
      let lastMismatches: string[] = [];
      const served = await eventually(
        'every acknowledged command in the evaluation API',
        async () => {
          lastMismatches = await mismatches();
          return lastMismatches.length === 0 ? true : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 200, describe: () => lastMismatches.slice(0, 10).join('\n') },
      );
      const acknowledgedWhileDown = acknowledgedAt.filter((at) => at >= downAt && at <= restartAt).length;
      report('Kafka stopped while commands arrive', {
        acknowledged: acknowledgedAt.length,
        failed: failures.length,
        acknowledgedWhileKafkaDown: acknowledgedWhileDown,
        acknowledgedDuringStopAndStart: acknowledgedAt.filter((at) => at >= stopRequestedAt && at <= upAt).length,
        kafkaStopMs: downAt - stopRequestedAt,
        kafkaDownMs: restartAt - downAt,
        kafkaStartMs: upAt - restartAt,
        idleAfterKafkaStartMs: convergedAt - upAt,
        servedAfterIdleMs: served.ms,
        traitsChecked: [...expectedTraits.values()].reduce((sum, traits) => sum + Object.keys(traits).length, 0),
        statesChecked: expectedStates.size,
        featuresCreated: createdFeatures.length,
        relayRestarts: relayRestarts(),
        topicMessages: idle.topicMessages,
        documentsCompared: comparison.documents,
      });
      // The command service does not depend on Kafka: it acknowledges throughout.
      expect(failures).toEqual([]);
      expect(acknowledgedWhileDown).toBeGreaterThanOrEqual(50);
      expect(expectedStates.size).toBe(featureSlots.length);
      expect(pipeline.unexpectedExits()).toEqual([]);
    }, 180_000);

    // Where to look after a failure, and how often each service was started.
    afterAll(() => {
      if (pipeline) report('fault pipeline logs', { dir: pipeline.logDir, starts: pipeline.services.map((s) => `${s.label}:${s.starts}`).join(' ') });
    });
  },
  { own: ['kafka', 'redis'] },
);
