import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteReadModelStore } from './sqlite-read-model.store';

/** Every object and array reachable from `value`, itself included. */
function objectsIn(value: unknown): object[] {
  if (typeof value !== 'object' || value === null) return [];
  return [value, ...Object.values(value).flatMap(objectsIn)];
}

describe('SqliteReadModelStore: identity documents read from the file', () => {
  let directory: string;
  beforeEach(() => (directory = mkdtempSync(join(tmpdir(), 'flagline-identity-reads-'))));
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('are the documents written, frozen throughout, by getNow and get alike', async () => {
    const path = join(directory, 'read-models.sqlite');
    const document = {
      environmentId: 7,
      identifier: 'ada',
      traits: { plan: 'pro', seats: 5 },
      floats: ['seats'],
      overrides: [{ featureId: 3, state: { enabled: true, value: 'gold', variants: [{ id: 1, weight: 50 }] } }],
      revision: 1,
    };
    const writer = SqliteReadModelStore.open({ path, flushIntervalMs: 60_000 });
    await writer.commit({ checkpoint: { key: 'checkpoint:project:1', expected: 0, next: 1 }, writes: [{ key: 'identity:7:ada', value: document }], changedEnvironments: [] });
    await writer.close();

    // A new process: nothing cached, every read decodes the file's text.
    const reader = SqliteReadModelStore.open({ path, flushIntervalMs: 60_000 });
    try {
      const reads = [reader.getNow('identity:7:ada'), await reader.get('identity:7:ada')];
      for (const read of reads) {
        expect(read).toEqual(document);
        const objects = objectsIn(read);
        expect(objects).toHaveLength(8);
        for (const object of objects) expect(Object.isFrozen(object)).toBe(true);
      }
      // getNow keeps nothing: each read is its own decoded copy.
      expect(reader.getNow('identity:7:ada')).not.toBe(reads[0]);
      expect(reader.getNow('identity:7:nobody')).toBeNull();
    } finally {
      await reader.close();
    }
  });
});
