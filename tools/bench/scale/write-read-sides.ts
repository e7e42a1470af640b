/**
 * What a new identity costs the standalone app's two write-behind flushers, in process: the admin
 * catalog's (an identity row at a random place of its key index, its identifier in the
 * environment's listing) and the read models' (the identity document under its random key), in
 * the batch a 200 ms flush takes at 3,000 new identities/s (600), after N identities. CPU time of
 * this process per identity over the last M of them (`process.cpuUsage`), for each flush alone:
 * a figure other load on the host moves far less than a rate. Run it from a tree's root
 * (`node -r @swc-node/register <this file>` with the working directory in another checkout
 * measures that checkout's stores), so two versions of the code can be measured in turns.
 *
 *   node -r @swc-node/register tools/bench/scale/write-read-sides.ts [N=300000] [M=60000]
 */
import { SqliteReadModelStore } from '@flagline/read-model-sqlite';
import { SqliteCatalogStore } from '@flagline/state-store-sqlite';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const total = Number(process.argv[2] ?? 300_000);
const measured = Math.min(total, Number(process.argv[3] ?? 60_000));
const BATCH = 600;

const cpuMicros = (): number => {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
};
const hex = (n: number, salt: string): string => createHash('sha256').update(`${salt}${n}`).digest('hex').slice(0, 32);

/** An identity as the catalog folds it (the domain's state: traits and overrides as maps) and as the read models hold it. */
function identityOf(n: number): { id: string; identifier: string; state: unknown; document: unknown } {
  const id = hex(n, 'id');
  const identifier = `user-${hex(n, 'identifier').slice(0, 12)}`;
  const createdAt = new Date(1_760_000_000_000 + n).toISOString();
  const traits: [string, string | number | boolean][] = [
    ['age', n % 90],
    ['beta', n % 2 === 0],
    ['country', 'GB'],
    ['plan', 'pro'],
    ['score', n % 1000],
  ];
  return {
    id,
    identifier,
    state: { status: 'active', identityId: id, projectId: 1, environmentId: 1, identifier, createdAt, traits: new Map(traits), overrides: new Map(), revision: 0 },
    document: { environmentId: 1, identifier, identityUuid: hex(n, 'uuid'), createdAt, traits: Object.fromEntries(traits), overrides: [], revision: 1 },
  };
}

async function main(): Promise<void> {
  const directory = mkdtempSync(join(tmpdir(), 'flagline-write-read-sides-'));
  const catalog = SqliteCatalogStore.open(join(directory, 'catalog.sqlite'));
  // Flushed here, by batch, as the app's timer would.
  const readModels = SqliteReadModelStore.open({ path: join(directory, 'read-models.sqlite'), flushIntervalMs: 3_600_000, flushAtDirty: Number.MAX_SAFE_INTEGER, maxDirty: Number.MAX_SAFE_INTEGER, trackWrittenIdentities: true });
  let catalogMicros = 0;
  let readModelMicros = 0;
  let counted = 0;
  try {
    for (let from = 0; from < total; from += BATCH) {
      const identities = Array.from({ length: Math.min(BATCH, total - from) }, (_, at) => identityOf(from + at));
      const position = from + identities.length;
      await readModels.commitBatch({
        checkpoints: [{ key: 'checkpoint:project:1', expected: from, next: position }],
        writes: identities.map(({ identifier, document }) => ({ key: `identity:1:${identifier}`, value: document })),
        changedEnvironments: [],
        changedIdentities: [],
      });
      const rows = identities.map(({ id, identifier, state }) => ({ identityId: id, environmentId: 1, identifier, listed: true, revision: 0, state }));
      const started = cpuMicros();
      catalog.write({ checkpoint: position, checkpointEvent: { id: `e${position}`, position, stream: `identity-${identities[0]?.id ?? ''}`, revision: 0 }, identities: rows, states: new Map(), audit: [], events: [] });
      const written = cpuMicros();
      readModels.flush();
      const flushed = cpuMicros();
      if (position > total - measured) {
        catalogMicros += written - started;
        readModelMicros += flushed - written;
        counted += identities.length;
      }
    }
    console.log(
      `${total} identities, last ${counted}, ${BATCH} a flush: catalog ${(catalogMicros / counted).toFixed(1)} µs, read models ${(readModelMicros / counted).toFixed(1)} µs of CPU per new identity (load average ${(loadavg()[0] ?? 0).toFixed(2)})`,
    );
  } finally {
    catalog.close();
    await readModels.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

void main();
