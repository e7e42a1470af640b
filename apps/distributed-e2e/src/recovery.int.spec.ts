// Recovery figures of the distributed mode, every service its own process, on a private Kafka
// broker and a private Redis (append-only, fsync always) that the tests stop, kill and start:
//   - after a Kafka outage, changes acknowledged meanwhile are served within 2 s of the broker
//     answering requests again;
//   - of two projectors in one group, one SIGKILLed: a change appended right after is applied
//     within 3 s, the survivor having taken the dead member's partitions (and within 2 s of a
//     SIGTERM, which leaves the group);
//   - Redis SIGKILLed and restarted while commands flow: nothing acknowledged is lost, and the
//     read models and checkpoints equal a rebuild from the log.
// Every figure is printed; see measureWithRetries for when a measurement is taken again.
import { describeWithInfra, kafkaClient, withOwnKafka, withOwnRedis } from '@flagline/infra-testing';
import { Redis } from 'ioredis';
import { type Admin, AssignerProtocol, Partitioners, type PartitionMetadata } from 'kafkajs';
import { mkdtempSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFleet, type Fleet, type FleetEnvironment } from './testing/fleet';
import type { HttpAnswer } from './testing/http';
import { Pipeline, START_TIMEOUT_MS } from './testing/pipeline';
import { environmentSdk, expectRebuildEquality, fleetServed } from './testing/audits';
import { readLog } from './testing/read-model-audit';
import { report } from './testing/report';
import type { ServiceProcess } from './testing/service-process';
import { eventually, runSeed, sleep } from './testing/wait';

/** The targets (issue 17): projection resumes within 2 s of Kafka's return; a killed member's partitions are taken over within 3 s. */
const KAFKA_RETURN_BUDGET_MS = 2000;
const TAKEOVER_BUDGET_MS = 3000;
/**
 * A stopped projector leaves its group: the handover waits for no session, only for the stopping
 * member's fetch in hand (300 ms at most), the other member's next heartbeat and its rejoin
 * (measured 1.2 to 1.3 s here, against 1.3 to 1.7 s after a SIGKILL).
 */
const STOP_HANDOVER_BUDGET_MS = 2000;
/** Longer than a publish's retries (KAFKA_RECONNECT_RETRY: about 5.5 s), so the relay's publishes fail and it starts over, and the consumer crashes. */
const KAFKA_DOWN_MS = 8000;
/**
 * A gap this long between two ticks of a 20 ms timer in the test process means the host did
 * not run it for that long: other processes (other suites' JVMs, compilers) had both cores. A
 * measurement over its budget during such a starvation says nothing about the mechanism.
 */
const STARVATION_GAP_MS = 250;
const MAX_ATTEMPTS = 3;

const isOk = (answer: HttpAnswer): boolean => answer.status >= 200 && answer.status <= 299;

/** Whether the broker on `port` answers an ApiVersions request: it accepts and serves connections (an open port alone is not that). */
function kafkaAnswers(port: number): Promise<boolean> {
  const clientId = Buffer.from('recovery-probe');
  const request = Buffer.alloc(4 + 10 + clientId.length);
  request.writeInt32BE(10 + clientId.length, 0);
  request.writeInt16BE(18, 4); // ApiVersions
  request.writeInt16BE(0, 6); // version 0
  request.writeInt32BE(7, 8); // correlation id
  request.writeInt16BE(clientId.length, 12);
  clientId.copy(request, 14);
  return new Promise((done) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = Buffer.alloc(0);
    const finish = (answered: boolean): void => {
      socket.destroy();
      done(answered);
    };
    socket.setTimeout(500, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write(request));
    socket.on('data', (data: Buffer) => {
      reply = Buffer.concat([reply, data]);
      if (reply.length >= 8) finish(reply.readInt32BE(4) === 7);
    });
  });
}

/** Polls until the broker answers; resolves with that moment. */
async function firstAnswer(port: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await kafkaAnswers(port)) return Date.now();
    await sleep(10);
  }
  throw new Error(`Kafka on port ${port} did not answer ApiVersions within ${timeoutMs} ms`);
}

/** The longest gap between ticks of a 20 ms timer while it runs: how long the host left the test process waiting. */
function starvationProbe(): { stop(): number } {
  let last = Date.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = Date.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 20);
  return {
    stop() {
      clearInterval(timer);
      return longest;
    },
  };
}

interface Attempt {
  readonly ms: number;
  readonly starvedMs: number;
  readonly detail: string;
}

/**
 * Measures up to MAX_ATTEMPTS times. Another attempt is made only when one was over budget AND
 * the host starved the test process meanwhile (a timer gap over STARVATION_GAP_MS); an attempt
 * over budget on an unstarved host ends the measuring, and the test fails on it. Every attempt is
 * printed.
 */
async function measureWithRetries(what: string, budgetMs: number, measure: (attempt: number) => Promise<{ ms: number; detail: string }>): Promise<Attempt[]> {
  const attempts: Attempt[] = [];
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const probe = starvationProbe();
    let starvedMs = 0;
    let measured: { ms: number; detail: string };
    try {
      measured = await measure(attempt);
    } finally {
      starvedMs = probe.stop();
    }
    const result: Attempt = { ...measured, starvedMs };
    attempts.push(result);
    report(`${what}, attempt ${attempt}`, { ms: result.ms, budgetMs, longestTimerGapMs: result.starvedMs, detail: result.detail });
    if (result.ms < budgetMs || result.starvedMs < STARVATION_GAP_MS) break;
  }
  return attempts;
}

/** The partition a message with this key goes to (kafkajs's default partitioner, as the relay's producer uses). */
function partitionOf(key: string, partitions: number): number {
  const partitionMetadata: PartitionMetadata[] = Array.from({ length: partitions }, (_, partitionId) => ({ partitionErrorCode: 0, partitionId, leader: 1, replicas: [1], isr: [1] }));
  return Partitioners.DefaultPartitioner()({ topic: 'flagline.events', partitionMetadata, message: { key, value: null } });
}

/** Each member of the group and the partitions of `topic` it holds. */
async function assignments(admin: Admin, groupId: string, topic: string): Promise<{ state: string; members: Map<string, number[]> }> {
  const { groups } = await admin.describeGroups([groupId]);
  const group = groups[0];
  const members = new Map<string, number[]>();
  for (const member of group?.members ?? []) {
    const decoded = member.memberAssignment.length > 0 ? AssignerProtocol.MemberAssignment.decode(member.memberAssignment) : null;
    members.set(member.memberId, [...(decoded?.assignment[topic] ?? [])].sort((a, b) => a - b));
  }
  return { state: group?.state ?? 'Unknown', members };
}

/** When a service logged lines containing `text` at or after `since` (their JSON lines' times). */
function loggedSince(service: ServiceProcess, text: string, since: number): number[] {
  const times: number[] = [];
  for (const line of readFileSync(service.logFile, 'utf8').split('\n')) {
    if (!line.includes(text)) continue;
    try {
      const at = Date.parse((JSON.parse(line) as { time?: string }).time ?? '');
      if (at >= since) times.push(at);
    } catch {
      // not a JSON log line
    }
  }
  return times;
}

/** How many rebalances of the group the broker logged after `offset` of its log, and the log's length now. */
function rebalances(logFile: string, groupId: string, offset: number): { count: number; size: number } {
  const text = readFileSync(logFile, 'utf8');
  const count = text
    .slice(offset)
    .split('\n')
    .filter((line) => line.includes(groupId) && line.includes('Preparing to rebalance')).length;
  return { count, size: text.length };
}

interface Change {
  readonly environment: FleetEnvironment;
  readonly feature: string;
  readonly value: string;
  readonly partition: number;
}

describeWithInfra(
  'distributed mode recovers within seconds (private Kafka and Redis)',
  () => {
    const kafka = withOwnKafka();
    const redisServer = withOwnRedis({ appendOnly: true, appendFsync: 'always' });
    const seed = runSeed();
    let pipeline: Pipeline;
    let redis: Redis;
    let kafkaAdmin: Admin;
    let fleet: Fleet;
    let partitions = 0;
    /** One environment of each project: changing all of them touches every partition. */
    let targets: { environment: FleetEnvironment; partition: number }[] = [];

    beforeAll(async () => {
      const workDir = mkdtempSync(join(tmpdir(), 'flagline-e2e-recovery-'));
      pipeline = new Pipeline({ redisUrl: redisServer().url, kafkaBrokers: kafka().brokers, workDir, evaluationInstances: 1, pollIntervalMs: 600_000 });
      const started = Date.now();
      try {
        await pipeline.start();
      } finally {
        report('recovery pipeline', { seed, workDir, startMs: Date.now() - started });
      }
      redis = new Redis(redisServer().url, { maxRetriesPerRequest: 1 });
      redis.on('error', () => undefined);
      kafkaAdmin = kafkaClient(kafka().brokers).admin();
      await kafkaAdmin.connect();
      const [metadata] = (await kafkaAdmin.fetchTopicMetadata({ topics: [pipeline.topic] })).topics;
      partitions = metadata?.partitions.length ?? 0;
      // Projects until every partition carries one (a project's events are keyed by its id).
      const environments: FleetEnvironment[] = [];
      while (new Set(environments.map((environment) => partitionOf(String(environment.projectId), partitions))).size < partitions && environments.length < 40) {
        const more = await createFleet(pipeline.admin, { projects: 4, environmentsPerProject: 1, featuresPerProject: 2, identitiesPerEnvironment: 2 });
        environments.push(...more.environments);
      }
      fleet = { environments };
      targets = environments.map((environment) => ({ environment, partition: partitionOf(String(environment.projectId), partitions) }));
    }, 240_000);

    afterAll(async () => {
      if (pipeline) report('recovery pipeline logs', { dir: pipeline.logDir, starts: pipeline.services.map((s) => `${s.label}:${s.starts}`).join(' ') });
      await pipeline?.close();
      await kafkaAdmin?.disconnect().catch(() => undefined);
      redis?.disconnect();
    });

    const documentKey = (environment: FleetEnvironment): string => `${pipeline.readModelPrefix}doc:environment:${environment.id}`;

    /** A feature state change in every target environment, each acknowledged by the command service. */
    async function changeEverywhere(tag: string): Promise<Change[]> {
      return Promise.all(
        targets.map(async ({ environment, partition }) => {
          const feature = environment.features[1] as { id: number; name: string };
          const value = `${tag}-${seed}-${environment.id}`;
          const answer = await pipeline.admin.send('PATCH', `/environments/${environment.id}/feature-states/${feature.id}`, { enabled: true, value });
          if (!isOk(answer)) throw new Error(`PATCH feature state in environment ${environment.id}: ${answer.status} ${answer.text}`);
          return { environment, feature: feature.name, value, partition };
        }),
      );
    }

    /** When the relay's checkpoint (advanced once Kafka acknowledged) reaches the log's current head, polled every 20 ms. */
    async function relayedPastHead(): Promise<() => Promise<number>> {
      const head = (await readLog(pipeline.dataDir)).at(-1)?.globalPosition ?? 0;
      const watch = eventually('the relay checkpoint past the changes', async () => (Number((await redis.get(pipeline.relayCheckpointKey)) ?? 0) >= head ? Date.now() : undefined), {
        timeoutMs: 60_000,
        intervalMs: 20,
      });
      // Awaited by the caller; until then a rejection must not count as unhandled.
      watch.catch(() => undefined);
      return async () => (await watch).value;
    }

    /** When each change is in its Redis read model, and when the evaluation service serves it, polled every 20 ms. */
    async function arrivals(changes: readonly Change[], timeoutMs: number): Promise<{ inRedisAt: number[]; servedAt: number[] }> {
      const inRedisAt = changes.map(() => 0);
      const servedAt = changes.map(() => 0);
      const deadline = Date.now() + timeoutMs;
      while (servedAt.some((at) => at === 0)) {
        if (Date.now() > deadline) {
          const missing = changes.filter((_, index) => servedAt[index] === 0).map((change, index) => `${change.environment.id} (partition ${change.partition}, in Redis: ${inRedisAt[index] !== 0})`);
          throw new Error(`Changes not served within ${timeoutMs} ms: ${missing.join(', ')}; ${pipeline.describeLogs()}`);
        }
        await Promise.all(
          changes.map(async (change, index) => {
            if (inRedisAt[index] === 0 && ((await redis.get(documentKey(change.environment)).catch(() => null)) ?? '').includes(change.value)) inRedisAt[index] = Date.now();
            if (servedAt[index] === 0) {
              const served = await environmentSdk(pipeline, change.environment)
                .flags()
                .catch(() => null);
              if (served?.get(change.feature)?.value === change.value) {
                servedAt[index] = Date.now();
                if (inRedisAt[index] === 0) inRedisAt[index] = servedAt[index];
              }
            }
          }),
        );
        await sleep(20);
      }
      return { inRedisAt, servedAt };
    }

    const served = (): Promise<void> => fleetServed(pipeline, redis, kafkaAdmin, fleet.environments);
    /** Every environment has its document (and 2 identities each): the comparison covers the fleet. */
    const equalToRebuild = async (): Promise<{ documents: number; checkpoints: number }> => (await expectRebuildEquality(pipeline, redis, kafkaAdmin, fleet.environments.length * 3)).comparison;

    it('serves the changes acknowledged during a Kafka outage within 2 s of the broker answering again', async () => {
      await served();
      const outagesFrom = Date.now();
      const attempts = await measureWithRetries('Kafka back: changes made while it was down served', KAFKA_RETURN_BUDGET_MS, async (attempt) => {
        await kafka().stop();
        const brokerLog = rebalances(kafka().logFile, pipeline.groupId, 0).size;
        const changes = await changeEverywhere(`while-kafka-down-${attempt}`);
        const relayed = await relayedPastHead();
        await sleep(KAFKA_DOWN_MS);
        const starting = kafka().start();
        // Settled below; until then a failed start must not count as unhandled.
        starting.catch(() => undefined);
        const answeredAt = await firstAnswer(kafka().port, 120_000);
        const { inRedisAt, servedAt } = await arrivals(changes, 60_000);
        const relayedAt = await relayed();
        await starting;
        const inRedisMs = Math.max(...inRedisAt) - answeredAt;
        const servedMs = Math.max(...servedAt) - answeredAt;
        // The projector kept its membership through the outage (no rebalance) unless it crashed meanwhile.
        const { count } = rebalances(kafka().logFile, pipeline.groupId, brokerLog);
        return {
          ms: servedMs,
          detail:
            `${changes.length} changes over ${partitions} partitions; after Kafka answered: relay checkpoint past them ${relayedAt - answeredAt} ms, ` +
            `all in Redis ${inRedisMs} ms, served ${servedMs} ms; group rebalances ${count}`,
        };
      });
      const relayRestarts = loggedSince(pipeline.relay, 'relay stopped; resuming from its checkpoint', outagesFrom).length;
      const consumerCrashReports = loggedSince(pipeline.projector, 'kafka consumer crashed', outagesFrom).length;
      const consumerRecoveries = loggedSince(pipeline.projector, 'kafka consumer back in its group', outagesFrom).length;
      report('Kafka outage recovery', { attempts: attempts.map((a) => a.ms).join(' '), relayRestarts, consumerCrashReports, consumerRecoveries });
      expect((attempts.at(-1) as Attempt).ms).toBeLessThan(KAFKA_RETURN_BUDGET_MS);
      // One line per outage, not one per reconnection attempt.
      expect(consumerCrashReports).toBeLessThanOrEqual(attempts.length);
      await equalToRebuild();
      expect(pipeline.unexpectedExits()).toEqual([]);
    }, 600_000);

    /** Two projector processes in the group, both ready (the second is added once and kept). */
    async function twoProjectors(): Promise<ServiceProcess[]> {
      const second = pipeline.extraProjectors[0] ?? pipeline.addProjector();
      if (!second.running) second.start();
      await second.waitReady(START_TIMEOUT_MS);
      return [pipeline.projector, second];
    }

    /**
     * Takes one of two projectors away (SIGKILL: a crash, found by its session expiring; SIGTERM:
     * a stop, which leaves the group), appends a change in every project, and measures from the
     * signal until every change on the partitions it held is in the read models; then starts it
     * again, so both members are back for the next attempt.
     */
    async function takeover(members: readonly ServiceProcess[], attempt: number, how: 'kill' | 'stop'): Promise<{ ms: number; detail: string }> {
      const { value: before } = await eventually(
        'two projectors sharing the partitions',
        async () => {
          const group = await assignments(kafkaAdmin, pipeline.groupId, pipeline.topic);
          const sizes = [...group.members.values()].map((held) => held.length);
          return group.state === 'Stable' && sizes.length === 2 && sizes.every((size) => size > 0) ? group.members : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 100 },
      );
      const victim = members[(attempt - 1) % 2] as ServiceProcess;
      const signalledAt = Date.now();
      // A stop is not awaited: the process finishes its shutdown while the change is appended.
      const gone = how === 'kill' ? victim.kill() : victim.stop();
      const changes = await changeEverywhere(`after-projector-${how}-${attempt}`);
      const acknowledgedAt = Date.now();
      const relayed = await relayedPastHead();
      const { inRedisAt } = await arrivals(changes, 60_000);
      const relayedAt = await relayed();
      await gone;
      const after = await assignments(kafkaAdmin, pipeline.groupId, pipeline.topic);
      const [goneMember] = [...before.keys()].filter((memberId) => !after.members.has(memberId));
      const orphaned = goneMember ? (before.get(goneMember) ?? []) : [];
      const takenOver = changes.map((change, index) => ({ change, at: inRedisAt[index] as number })).filter(({ change }) => orphaned.includes(change.partition));
      // The figure is about the partitions the member held: without a change there, nothing was measured.
      expect(takenOver.length).toBeGreaterThan(0);
      const ms = Math.max(...takenOver.map(({ at }) => at)) - signalledAt;
      const allMs = Math.max(...inRedisAt) - signalledAt;
      victim.start();
      await victim.waitReady(START_TIMEOUT_MS);
      return {
        ms,
        detail: `${victim.label} (${how}) held partitions ${orphaned.join(',')}; after the signal: changes acknowledged ${acknowledgedAt - signalledAt} ms, relayed ${relayedAt - signalledAt} ms, the ${takenOver.length} there applied ${ms} ms (all ${changes.length}: ${allMs} ms); survivor held ${[...after.members.values()].map((held) => held.join(',')).join(' | ')}`,
      };
    }

    it.each([
      {
        name: 'applies a change within 3 s of one of two projectors being SIGKILLed: the survivor takes its partitions',
        how: 'kill' as const,
        figure: 'projector SIGKILLed: change applied by the survivor',
        budgetMs: TAKEOVER_BUDGET_MS,
      },
      {
        name: "hands a stopped (SIGTERM) projector's partitions over within 2 s: it leaves the group, no session to wait out",
        how: 'stop' as const,
        figure: 'projector stopped: change applied by the other',
        budgetMs: STOP_HANDOVER_BUDGET_MS,
      },
    ])('$name', async ({ how, figure, budgetMs }) => {
      await served();
      const members = await twoProjectors();
      const attempts = await measureWithRetries(figure, budgetMs, (attempt) => takeover(members, attempt, how));
      expect((attempts.at(-1) as Attempt).ms).toBeLessThan(budgetMs);
      await equalToRebuild();
      expect(pipeline.unexpectedExits()).toEqual([]);
    }, 600_000);

    it('loses nothing when Redis is SIGKILLed and restarted while commands flow: read models and checkpoints equal a rebuild from the log', async () => {
      await served();
      const WORKERS = 4;
      const slots = targets.flatMap(({ environment }) => environment.features.map((feature) => ({ environment, feature })));
      const lastAcknowledged = new Map<string, { environment: FleetEnvironment; feature: string; value: string }>();
      const failures: string[] = [];
      let acknowledged = 0;
      let stopped = false;
      const worker = async (w: number): Promise<void> => {
        const mine = slots.filter((_, index) => index % WORKERS === w);
        for (let seq = 0; !stopped; seq++) {
          const slot = mine[seq % mine.length] as (typeof slots)[number];
          const value = `redis-kill-${w}-${seq}`;
          const answer = await pipeline.admin.send('PATCH', `/environments/${slot.environment.id}/feature-states/${slot.feature.id}`, { enabled: seq % 2 === 0, value });
          if (isOk(answer)) {
            acknowledged++;
            lastAcknowledged.set(`${slot.environment.id}/${slot.feature.name}`, { environment: slot.environment, feature: slot.feature.name, value });
          } else failures.push(`${answer.status} ${answer.text}`);
          await sleep(40);
        }
      };
      const workers = Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
      let acknowledgedBeforeKill = 0;
      let downMs = 0;
      try {
        await sleep(1500);
        acknowledgedBeforeKill = acknowledged;
        const killedAt = Date.now();
        redisServer().kill();
        await sleep(1000);
        await redisServer().start();
        downMs = Date.now() - killedAt;
        await sleep(2000);
      } finally {
        stopped = true;
        await workers;
      }
      const { documents, checkpoints } = await equalToRebuild();
      // And the last acknowledged value of every slot is in its read model.
      const missing: string[] = [];
      for (const { environment, feature, value } of lastAcknowledged.values()) {
        const document = (await redis.get(documentKey(environment))) ?? '';
        if (!document.includes(value)) missing.push(`${environment.id}/${feature}=${value}`);
      }
      report('Redis SIGKILLed while commands flow', {
        acknowledged,
        acknowledgedBeforeKill,
        acknowledgedAfterKill: acknowledged - acknowledgedBeforeKill,
        failed: failures.length,
        failures: failures.slice(0, 3).join(' | '),
        redisDownMs: downMs,
        documentsCompared: documents,
        checkpointsCompared: checkpoints,
      });
      expect(missing).toEqual([]);
      expect(acknowledged - acknowledgedBeforeKill).toBeGreaterThan(10);
      // A command the command service could not complete while Redis was away is refused as unavailable, never a 500.
      expect(failures.filter((failure) => !failure.startsWith('503'))).toEqual([]);
      expect(pipeline.unexpectedExits()).toEqual([]);
    }, 300_000);
  },
  { own: ['kafka', 'redis'] },
);
