/**
 * What a new identity costs in the three SQLite files its write extends at random places of
 * their keys: the event log's index (a new stream), the sealing keys (a new key, made durable
 * with a WAL fdatasync per batch) and the log's Merkle tree (a leaf and its nodes), in process,
 * in the batch sizes the server uses under load (20 appends per group commit, 26 leaves per 20 ms
 * batch of the tree's follower), after N identities. CPU time of this process per identity over
 * the last M of them (`process.cpuUsage`): a figure other load on the host moves far less than a
 * rate. Run it from a tree's root, so two versions of the code can be measured in turns.
 *
 *   node -r @swc-node/register tools/bench/scale/write-stores.ts [N=300000] [M=20000]
 */
import { newSealingKey } from '@flagline/event-sealing';
import { SqliteSealingKeyStore } from '@flagline/key-store';
import { nodesForAppend } from '@flagline/transparency';
import { SqliteTreeStore } from '@flagline/transparency-store';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// The log's index is not part of the library's API: it is measured where it is.
import { LogIndexStore } from '../../../libs/shared/event-store-embedded/src/lib/log-index.store';

const total = Number(process.argv[2] ?? 300_000);
const measured = Math.min(total, Number(process.argv[3] ?? 20_000));
const GROUP = 20;
const TREE_BATCH = 26;

const cpuMicros = (): number => {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
};
/** An identity stream's name, as random as a keyed id. */
const streamName = (n: number): string => `identity-${createHash('sha256').update(String(n)).digest('hex').slice(0, 32)}`;

function logIndex(directory: string): number {
  const { index } = LogIndexStore.open(join(directory, 'index.sqlite'), 8);
  index.completeBuild();
  let used = 0;
  for (let n = 0; n < total; n += GROUP) {
    const frames = Array.from({ length: GROUP }, (_, at) => ({
      offset: 8 + (n + at) * 100,
      bytes: 100,
      checksum: n + at,
      freshIds: true,
      events: [{ id: randomUUID(), streamName: streamName(n + at), streamRevision: 0, globalPosition: n + at + 1 }],
    }));
    const before = cpuMicros();
    index.addFrames(frames, { decided: true });
    if (n >= total - measured) used += cpuMicros() - before;
  }
  index.close();
  return used / measured;
}

async function sealingKeys(directory: string): Promise<number> {
  const keys = SqliteSealingKeyStore.open(join(directory, 'keys.sqlite'));
  let used = 0;
  for (let n = 0; n < total; n += GROUP) {
    const before = cpuMicros();
    await Promise.all(Array.from({ length: GROUP }, (_, at) => keys.ensure(streamName(total + n + at), newSealingKey())));
    if (n >= total - measured) used += cpuMicros() - before;
  }
  await keys.close();
  return used / measured;
}

function merkleTree(directory: string): number {
  const tree = SqliteTreeStore.open(join(directory, 'transparency.sqlite'));
  let used = 0;
  for (let n = 0; n < total; n += TREE_BATCH) {
    const leaves = Array.from({ length: TREE_BATCH }, (_, at) => ({ index: n + at, position: n + at + 1, eventId: randomUUID(), hash: createHash('sha256').update(String(n + at)).digest() }));
    const before = cpuMicros();
    tree.append(
      leaves,
      nodesForAppend(
        tree,
        n,
        leaves.map((leaf) => leaf.hash),
      ),
    );
    if (n >= total - measured) used += cpuMicros() - before;
  }
  tree.close();
  return used / measured;
}

async function main(): Promise<void> {
  const directory = mkdtempSync(join(tmpdir(), 'flagline-write-stores-'));
  try {
    const index = logIndex(directory);
    const keys = await sealingKeys(directory);
    const tree = merkleTree(directory);
    console.log(`${total} new identities, CPU per identity over the last ${measured}:`);
    const rows: [string, number][] = [
      [`log index (a new stream, ${GROUP} per commit)`, index],
      [`sealing keys (a new key, ${GROUP} per commit and fdatasync)`, keys],
      [`Merkle tree (a leaf and its nodes, ${TREE_BATCH} per batch)`, tree],
      ['the three', index + keys + tree],
    ];
    for (const [what, micros] of rows) console.log(`  ${what.padEnd(56)} ${micros.toFixed(1).padStart(6)} µs`);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
