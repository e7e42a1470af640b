import { KafkaBroker, RedisServer, kafkaUnavailableReason, redisUnavailableReason } from '@flagline/infra-testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdminClient } from './admin-client';
import { benchIdentities, createBenchEnvironment, type BenchEnvironment } from './fixture';
import { EVALUATION_SERVICE_NODE_OPTIONS } from '../../apps/evaluation-service/src/node-options';

export interface DistributedSetup {
  readonly evaluationUrl: string;
  /** The evaluation service's process, to pin it and read its CPU and RSS. */
  readonly evaluationPid: number;
  readonly admin: AdminClient;
  readonly bench: BenchEnvironment;
  /**
   * Stops the write pipeline (relay, projector, Kafka) and leaves the evaluation service serving
   * its in-memory copy beside Redis and the command service: the evaluation tier as it runs on its
   * own nodes, measured without a JVM broker and two followers sharing this machine's two cores.
   */
  quiesce(): Promise<void>;
  /**
   * Starts another evaluation service, from the build under `buildRoot` (another checkout's dist/),
   * on the same Redis and command service, and resolves once it serves the benchmark environment:
   * the code from before a change, measured in the same rounds as the current one.
   */
  startEvaluation(buildRoot: string): Promise<{ readonly url: string; readonly pid: number }>;
  stop(): Promise<void>;
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill();
  });
}

/**
 * Starts a service's build under `root`; the evaluation service with the Node options it runs with
 * everywhere, or none for a build from before it had them (as that build ran).
 */
function startService(root: string, app: string, env: Record<string, string>): ChildProcess {
  const ownOptions = existsSync(join(root, 'apps', 'evaluation-service', 'src', 'node-options.ts'));
  const nodeOptions = app === 'evaluation-service' && ownOptions ? EVALUATION_SERVICE_NODE_OPTIONS : [];
  return spawn(process.execPath, [...nodeOptions, join(root, 'dist', 'apps', app, 'src', 'main.js')], {
    env: { ...process.env, LOG_LEVEL: 'warn', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not there yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const healthy = (url: string) => async () => (await fetch(`${url}/health`)).ok;

/** Why the distributed run cannot happen here, if it cannot. */
export function distributedUnavailableReason(): string | undefined {
  return redisUnavailableReason() ?? kafkaUnavailableReason();
}

/**
 * The distributed topology on this machine: real Redis and Kafka; the command service writing
 * the embedded log (no EventStoreDB server here), the relay following it from its own process,
 * a projector and an evaluation service; the benchmark environment created through the admin API.
 */
export async function startDistributed(root: string, ports: () => Promise<number>): Promise<DistributedSetup> {
  const dataDir = await mkdtemp(join(tmpdir(), 'flagline-bench-distributed-'));
  const redis = await RedisServer.start();
  const kafka = await KafkaBroker.start();
  const adminKey = `flk_${randomBytes(24).toString('base64url')}`;
  const internalToken = randomBytes(24).toString('base64url');
  const [commandPort, relayPort, projectorPort, evaluationPort] = [await ports(), await ports(), await ports(), await ports()];
  const common = { REDIS_URL: redis.url, KAFKA_BROKERS: kafka.brokers.join(','), INTERNAL_API_TOKEN: internalToken };
  const children: ChildProcess[] = [];
  const pipeline: ChildProcess[] = [];
  let kafkaStopped: Promise<void> | undefined;
  const quiesce = async (): Promise<void> => {
    await Promise.all(pipeline.map(stopChild));
    await (kafkaStopped ??= kafka.dispose());
  };
  const stop = async (): Promise<void> => {
    await Promise.all(children.map(stopChild));
    await (kafkaStopped ??= kafka.dispose());
    await redis.dispose();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    children.push(startService(root, 'command-service', { ...common, EVENT_STORE: 'embedded', DATA_DIR: dataDir, ADMIN_API_KEY: adminKey, PORT: String(commandPort) }));
    const commandUrl = `http://127.0.0.1:${commandPort}`;
    await waitUntil(healthy(commandUrl), 'the command service');
    pipeline.push(startService(root, 'relay', { ...common, EVENT_STORE: 'embedded', DATA_DIR: dataDir, PORT: String(relayPort) }));
    pipeline.push(startService(root, 'projector', { ...common, PORT: String(projectorPort) }));
    children.push(...pipeline);
    const evaluation = startService(root, 'evaluation-service', { ...common, COMMAND_SERVICE_URL: commandUrl, PORT: String(evaluationPort) });
    children.push(evaluation);
    const evaluationUrl = `http://127.0.0.1:${evaluationPort}`;
    await waitUntil(healthy(`http://127.0.0.1:${relayPort}`), 'the relay');
    await waitUntil(healthy(`http://127.0.0.1:${projectorPort}`), 'the projector');
    await waitUntil(async () => (await fetch(`${evaluationUrl}/health/ready`)).ok, 'the evaluation service');
    const admin = new AdminClient(commandUrl, adminKey);
    const bench = await createBenchEnvironment(admin);
    await waitUntil(async () => {
      const response = await fetch(`${evaluationUrl}/api/v1/flags/`, { headers: { 'x-environment-key': bench.clientKey } });
      return response.ok && ((await response.json()) as unknown[]).length === 20;
    }, 'the benchmark environment in the evaluation service');
    // Identities are stored once, through the command service, before the measured runs.
    for (const identity of benchIdentities(100)) {
      const body = JSON.stringify({ identifier: identity.identifier, traits: Object.entries(identity.traits).map(([trait_key, trait_value]) => ({ trait_key, trait_value })) });
      const response = await fetch(`${evaluationUrl}/api/v1/identities/`, { method: 'POST', headers: { 'x-environment-key': bench.serverKey, 'content-type': 'application/json' }, body });
      await response.arrayBuffer();
    }
    await waitUntil(async () => {
      const identity = await admin.call<{ traits: Record<string, unknown> }>('GET', `/environments/${bench.environmentId}/identities/user-99`);
      return Object.keys(identity.traits).length === 5;
    }, 'stored identities');
    // Drained: a last change reaches the evaluation service only after every earlier event of the
    // project (they share one partition, in order), so measurements start on an idle pipeline.
    const sentinel = `drained-${randomBytes(4).toString('hex')}`;
    await admin.call('PATCH', `/environments/${bench.environmentId}/feature-states/${bench.probeFeature.id}`, { value: sentinel });
    await waitUntil(async () => {
      const response = await fetch(`${evaluationUrl}/api/v1/flags/?feature=${bench.probeFeature.name}`, { headers: { 'x-environment-key': bench.clientKey } });
      return response.ok && ((await response.json()) as { feature_state_value: unknown }).feature_state_value === sentinel;
    }, 'the projection to catch up');
    const probe = async (url: string): Promise<unknown> => {
      const response = await fetch(`${url}/api/v1/flags/?feature=${bench.probeFeature.name}`, { headers: { 'x-environment-key': bench.clientKey } });
      return response.ok ? ((await response.json()) as { feature_state_value: unknown }).feature_state_value : undefined;
    };
    const startEvaluation = async (buildRoot: string): Promise<{ url: string; pid: number }> => {
      const port = await ports();
      const child = startService(buildRoot, 'evaluation-service', { ...common, COMMAND_SERVICE_URL: commandUrl, PORT: String(port) });
      children.push(child);
      const url = `http://127.0.0.1:${port}`;
      await waitUntil(async () => (await fetch(`${url}/health`)).ok, `the evaluation service of ${buildRoot}`);
      // Serving what the current evaluation service serves (the probe's last value, after the propagation runs).
      const served = await probe(evaluationUrl);
      await waitUntil(async () => (await probe(url)) === served, `the benchmark environment in the evaluation service of ${buildRoot}`);
      return { url, pid: child.pid ?? 0 };
    };
    return { evaluationUrl, evaluationPid: evaluation.pid ?? 0, admin, bench, quiesce, startEvaluation, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
