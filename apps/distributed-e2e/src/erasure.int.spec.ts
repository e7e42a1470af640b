// Erasure (GDPR) in distributed mode: command service (sealing keys in Redis) -> embedded log ->
// relay -> Kafka -> projector (opening events with the keys in Redis) -> Redis read models ->
// an evaluation service.
import { describeWithInfra, kafkaBrokers, redisUrl } from '@flagline/infra-testing';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SdkClient, numberAt, record, stringAt } from './testing/http';
import { Pipeline } from './testing/pipeline';
import { eventually } from './testing/wait';

/** Every key of a prefix whose name or value holds the text (strings, hashes and sets). */
async function redisKeysHolding(redis: Redis, prefix: string, text: string): Promise<string[]> {
  const found: string[] = [];
  for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 500 }) as AsyncIterable<string[]>) {
    for (const key of keys) {
      const type = await redis.type(key);
      const values =
        type === 'string' ? [await redis.get(key)] : type === 'hash' ? Object.entries(await redis.hgetall(key)).flat() : type === 'set' ? await redis.smembers(key) : type === 'zset' ? await redis.zrange(key, 0, -1) : [];
      if (key.includes(text) || values.some((value) => value?.includes(text))) found.push(key);
    }
  }
  return found;
}

describeWithInfra('erasure in distributed mode (command service, relay, Kafka, projector, Redis, evaluation service)', () => {
  let pipeline: Pipeline;
  let redis: Redis;

  beforeAll(async () => {
    pipeline = new Pipeline({ redisUrl: redisUrl(), kafkaBrokers: kafkaBrokers(), workDir: mkdtempSync(join(tmpdir(), 'flagline-e2e-erasure-')), evaluationInstances: 1, pollIntervalMs: 600_000 });
    await pipeline.start();
    redis = new Redis(redisUrl());
  }, 120_000);

  afterAll(async () => {
    await pipeline?.close();
    redis?.disconnect();
  });

  it('seals the identity in the log, drops it from the read models on erasure, destroys its key, and serves the identifier afterwards as a new identity', async () => {
    const admin = pipeline.admin;
    const organisation = numberAt(await admin.ok('POST', '/organisations', { name: 'Erasure' }), 'id');
    const project = numberAt(await admin.ok('POST', '/projects', { organisation, name: 'Storefront' }), 'id');
    const environment = await admin.ok('POST', `/projects/${project}/environments`, { name: 'Production' });
    const environmentId = numberAt(environment, 'id');
    const feature = numberAt(await admin.ok('POST', `/projects/${project}/features`, { name: 'checkout_button', defaultEnabled: true, initialValue: 'blue' }), 'id');
    const identifier = `erin-${randomBytes(4).toString('hex')}@example.com`;
    const nickname = `pangolin-${randomBytes(4).toString('hex')}`;
    const path = `/environments/${environmentId}/identities/${encodeURIComponent(identifier)}`;
    await admin.ok('POST', `/environments/${environmentId}/identities`, { identifier, traits: { nickname } });
    await admin.ok('PUT', `${path}/overrides/${feature}`, { enabled: true, value: 'gold' });
    const sdk = new SdkClient((pipeline.evaluations[0] as { url: string }).url, stringAt(environment, 'apiKey'));
    await eventually('the identity override to be served', async () => ((await sdk.identity(identifier)).flags.get('checkout_button')?.value === 'gold' ? true : undefined), { timeoutMs: 60_000 });
    expect(await redisKeysHolding(redis, pipeline.readModelPrefix, nickname)).not.toEqual([]);
    const log = readdirSync(join(pipeline.dataDir, 'events')).map((name) => readFileSync(join(pipeline.dataDir, 'events', name)));
    expect(log.some((bytes) => bytes.includes(Buffer.from(identifier)) || bytes.includes(Buffer.from(nickname)))).toBe(false);
    expect(await redisKeysHolding(redis, pipeline.sealingKeyPrefix, '')).toHaveLength(1);

    const erased = await admin.send('POST', `${path}/erase`);
    expect(erased.status).toBe(204);
    expect((await admin.send('GET', path)).status).toBe(404);
    expect(await redisKeysHolding(redis, pipeline.readModelPrefix, identifier)).toEqual([]);
    expect(await redisKeysHolding(redis, pipeline.readModelPrefix, nickname)).toEqual([]);
    expect(await redisKeysHolding(redis, pipeline.sealingKeyPrefix, '')).toEqual([]);
    const history = record(await admin.ok('GET', `${path}/history`), 'history');
    expect(JSON.stringify(history)).not.toContain(nickname);
    expect(JSON.stringify(history)).not.toContain(identifier);

    // The evaluation service forgets it (change notification): an identify makes a new identity, without the override.
    await eventually('the erased identity to be forgotten by the evaluation service', async () => ((await sdk.identity(identifier)).flags.get('checkout_button')?.value === 'blue' ? true : undefined), { timeoutMs: 60_000 });
    await eventually('the new identity to be recorded', async () => ((await admin.send('GET', path)).status === 200 ? true : undefined), { timeoutMs: 60_000 });
    expect(await redisKeysHolding(redis, pipeline.sealingKeyPrefix, '')).toHaveLength(1);
  }, 180_000);
});
