/**
 * What the log's Merkle tree costs per event: the follower's work (RFC 8785 canonical bytes, the
 * leaf hash, the subtree nodes, one SQLite transaction per batch) and the start-up check (reading
 * the log back and comparing every leaf), on a fresh embedded log of N events shaped like the
 * platform's (an identity created with five traits, under an actor and a correlation id).
 *
 *   node -r @swc-node/register tools/bench/transparency.ts [events=100000]
 */
import { EmbeddedEventStore } from '@flagline/event-store-embedded';
import { TransparencyLog } from '@flagline/transparency';
import { SqliteTreeStore } from '@flagline/transparency-store';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 100_000);
  const directory = mkdtempSync(join(tmpdir(), 'flagline-bench-transparency-'));
  try {
    const log = await EmbeddedEventStore.open({ directory: join(directory, 'events') });
    const metadata = { actor: { kind: 'environment-key' as const, id: 'ser.abc', name: 'server-side key' }, occurredAt: new Date().toISOString(), correlationId: randomUUID(), organisationId: '2', projectId: '3' };
    for (let n = 0; n < count; n += 1000) {
      await Promise.all(
        Array.from({ length: Math.min(1000, count - n) }, (_, offset) =>
          log.appendToStream(`identity-${randomUUID().replace(/-/g, '')}`, [
            { id: randomUUID(), type: 'IdentityCreated', data: { environmentId: 4, identifier: `user-${n + offset}`, traits: { plan: 'pro', age: 42, country: 'NL', beta: true, score: 3.5 }, schemaVersion: 2 }, metadata },
          ]),
        ),
      );
    }
    const { privateKey } = generateKeyPairSync('ed25519');
    const tree = SqliteTreeStore.open(join(directory, 'transparency.sqlite'));
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    const follower = new TransparencyLog(log, tree, { signingKey: privateKey });
    await follower.start();
    await follower.progress.waitFor(await log.headPosition(), 600_000);
    const wall1 = performance.now();
    const cpu1 = process.cpuUsage(cpu0);
    await follower.stop();
    const checkCpu0 = process.cpuUsage();
    const checkWall0 = performance.now();
    const checker = new TransparencyLog(log, tree, { signingKey: privateKey });
    await checker.start();
    const checkWall = performance.now() - checkWall0;
    const checkCpu = process.cpuUsage(checkCpu0);
    if (checker.mismatch) throw new Error(checker.mismatch.message);
    const head = await checker.treeHead();
    await checker.stop();
    tree.close();
    await log.close();
    const us = (micros: { user: number; system: number }) => (micros.user + micros.system) / count;
    console.log(`events: ${count}, tree size ${head.treeSize}`);
    console.log(`follow (log read, canonical bytes, leaf hash, nodes, SQLite): ${(((wall1 - wall0) * 1000) / count).toFixed(1)} us/event wall, ${us(cpu1).toFixed(1)} us/event CPU`);
    console.log(`start-up check (log read, canonical bytes, leaf hash, compare): ${((checkWall * 1000) / count).toFixed(1)} us/event wall, ${us(checkCpu).toFixed(1)} us/event CPU`);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
