import { identityUuidFor, readModelKeys, type IdentityDocument, type ReadModelWrite } from '@flagline/contracts';
import { RedisServer, redisUnavailableReason } from '@flagline/infra-testing';
import { RedisReadModelStore } from '@flagline/read-model-redis';
import { SqliteReadModelStore } from '@flagline/read-model-sqlite';
import { Redis } from 'ioredis';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EVALUATION_SERVICE_NODE_OPTIONS } from '../../apps/evaluation-service/src/node-options';
import { AdminClient } from './admin-client';
import { benchIdentities, createBenchEnvironment } from './fixture';
import { freePort, identityBody, waitFor } from './support';

/**
 * `npm run bench:rss`: the evaluation service's resident memory with the benchmark environment and
 * IDENTITIES (default 100,000) cached identities. The read models are the standalone app's (the
 * same projections the projector runs), made through the admin API and copied into a private
 * Redis with the identities' documents; the evaluation service then identifies every identity
 * once (same traits as stored, so nothing is written) and its RSS is read when it has settled.
 * Options (env): IDENTITIES, RSS_BUILD (the build directory, default dist), RSS_SETTLE_S (default 20),
 * RSS_NODE_ARGS (Node options for the service, space-separated, to try heap settings; by default the
 * options it runs with everywhere, EVALUATION_SERVICE_NODE_OPTIONS; empty for Node's own defaults).
 */
const root = resolve(__dirname, '..', '..');
const IDENTITIES = Number(process.env['IDENTITIES'] ?? 100_000);
const BUILD = process.env['RSS_BUILD'] ?? 'dist';
const SETTLE_S = Number(process.env['RSS_SETTLE_S'] ?? 20);
const NODE_ARGS = process.env['RSS_NODE_ARGS'] === undefined ? EVALUATION_SERVICE_NODE_OPTIONS : process.env['RSS_NODE_ARGS'].split(' ').filter((arg) => arg !== '');
const CONNECTIONS = 16;
const PREFIX = `flagline:rss-${randomBytes(3).toString('hex')}:`;

const stopped = (child: ChildProcess): Promise<void> =>
  new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once('exit', () => done());
    child.kill('SIGTERM');
  });

const megabytes = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) * 1024;
}

/** The V8 heap's used and total sizes, the young generation's and the external memory, from the service's default metrics. */
async function heapOf(url: string): Promise<string> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (pattern: RegExp): string => {
    const found = pattern.exec(text)?.[1];
    return found === undefined ? 'n/a' : megabytes(Number(found));
  };
  return [
    `heap used ${value(/^nodejs_heap_size_used_bytes\{[^}]*\} (\S+)$/m)} of ${value(/^nodejs_heap_size_total_bytes\{[^}]*\} (\S+)$/m)}`,
    `new space ${value(/^nodejs_heap_space_size_total_bytes\{[^}]*space="new"[^}]*\} (\S+)$/m)}`,
    `old space used ${value(/^nodejs_heap_space_size_used_bytes\{[^}]*space="old"[^}]*\} (\S+)$/m)}`,
    `external ${value(/^nodejs_external_memory_bytes\{[^}]*\} (\S+)$/m)}`,
  ].join(', ');
}

/** The benchmark environment's read models, made by a standalone app through the admin API, then read from its file. */
async function benchReadModels(dataDir: string): Promise<{ writes: ReadModelWrite[]; environmentId: number; serverKey: string }> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const adminKey = `flk_${randomBytes(24).toString('base64url')}`;
  const app = spawn(process.execPath, [join(root, BUILD, 'apps', 'standalone', 'src', 'main.js')], {
    cwd: root,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, ADMIN_API_KEY: adminKey, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let bench: Awaited<ReturnType<typeof createBenchEnvironment>>;
  try {
    await waitFor(`${base}/health`);
    bench = await createBenchEnvironment(new AdminClient(base, adminKey));
  } finally {
    await stopped(app);
  }
  const file = SqliteReadModelStore.open({ path: join(dataDir, 'read-models.sqlite') });
  try {
    const keys = (await file.keysWithPrefix('')).filter((key) => !key.startsWith('identity:'));
    const values = await file.getMany<unknown>(keys);
    const writes = keys.flatMap((key, index): ReadModelWrite[] => (values[index] === null ? [] : [{ key, value: values[index] }]));
    return { writes, environmentId: bench.environmentId, serverKey: bench.serverKey };
  } finally {
    await file.close();
  }
}

/** Sends every body once over `CONNECTIONS` kept-alive connections; fails on any answer but 200. */
async function identifyAll(url: string, serverKey: string, bodies: readonly string[]): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  let next = 0;
  const one = (body: string): Promise<void> =>
    new Promise((done, fail) => {
      const outgoing = httpRequest(
        `${url}/api/v1/identities/`,
        { method: 'POST', agent, headers: { 'x-environment-key': serverKey, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (response) => {
          response.resume();
          response.on('end', () => (response.statusCode === 200 ? done() : fail(new Error(`identify answered ${response.statusCode}`))));
        },
      );
      outgoing.on('error', fail);
      outgoing.end(body);
    });
  const lane = async (): Promise<void> => {
    while (next < bodies.length) await one(bodies[next++] as string);
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, lane));
  agent.destroy();
}

async function main(): Promise<void> {
  const unavailable = redisUnavailableReason();
  if (unavailable !== undefined) {
    console.log(`bench:rss skipped: ${unavailable}`);
    return;
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'flagline-rss-'));
  const redisServer = await RedisServer.start();
  const redis = new Redis(redisServer.url, { lazyConnect: true });
  let service: ChildProcess | undefined;
  try {
    const { writes, environmentId, serverKey } = await benchReadModels(dataDir);
    await redis.connect();
    const store = new RedisReadModelStore({ redis, keyPrefix: PREFIX });
    const identities = benchIdentities(IDENTITIES);
    const documents = identities.map(
      (identity): ReadModelWrite => ({
        key: readModelKeys.identity(environmentId, identity.identifier),
        value: {
          environmentId,
          identifier: identity.identifier,
          identityUuid: identityUuidFor(environmentId, identity.identifier),
          createdAt: '2026-12-06T00:00:00.000Z',
          traits: identity.traits,
          overrides: [],
          revision: 1,
        } satisfies IdentityDocument,
      }),
    );
    const batches = [writes, ...Array.from({ length: Math.ceil(documents.length / 5000) }, (_, index) => documents.slice(index * 5000, (index + 1) * 5000))];
    for (const [index, batch] of batches.entries()) {
      const committed = await store.commit({ checkpoint: { key: 'checkpoint:bench-rss', expected: index, next: index + 1 }, writes: batch, changedEnvironments: [] });
      if (!committed) throw new Error('the read models could not be written to Redis');
    }
    await store.close();

    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    service = spawn(process.execPath, [...NODE_ARGS, join(root, BUILD, 'apps', 'evaluation-service', 'src', 'main.js')], {
      cwd: root,
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', REDIS_URL: redisServer.url, READ_MODEL_PREFIX: PREFIX, IDENTITY_TTL_MS: '3600000', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await waitFor(`${url}/health/ready`);
    const pid = service.pid as number;
    await new Promise((settle) => setTimeout(settle, 2000));
    const started = await rssOf(pid);
    const began = performance.now();
    await identifyAll(url, serverKey, identities.map((identity) => identityBody(identity)));
    const seconds = (performance.now() - began) / 1000;
    const loaded = await rssOf(pid);
    await new Promise((settle) => setTimeout(settle, SETTLE_S * 1000));
    const settled = await rssOf(pid);
    const heap = await heapOf(url);
    console.log(
      [
        '',
        `Evaluation service RSS (build ${BUILD}${NODE_ARGS.length > 0 ? `, ${NODE_ARGS.join(' ')}` : ''}, Node ${process.version}, load average ${loadavg().map((value) => value.toFixed(1)).join(' ')}):`,
        '',
        '| | RSS |',
        '|---|---:|',
        `| ready, benchmark environment loaded | ${megabytes(started)} |`,
        `| after identifying ${IDENTITIES.toLocaleString('en-US')} distinct identities (${seconds.toFixed(1)} s) | ${megabytes(loaded)} |`,
        `| settled ${SETTLE_S} s later | ${megabytes(settled)} |`,
        '',
        `Then, from its /metrics: ${heap}.`,
        '',
      ].join('\n'),
    );
  } finally {
    if (service) await stopped(service);
    redis.disconnect();
    await redisServer.dispose();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
