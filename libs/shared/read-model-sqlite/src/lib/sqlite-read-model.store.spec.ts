import { describeBatchReadModelStoreContract, describeReadModelStoreContract } from '@flagline/read-model/testing';
import Database from 'better-sqlite3';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteReadModelStore, type SqliteReadModelStoreOptions } from './sqlite-read-model.store';

function openInTemporaryDirectory(): Promise<{ store: SqliteReadModelStore; dispose(): Promise<void> }> {
  const directory = mkdtempSync(join(tmpdir(), 'flagline-read-models-'));
  const store = SqliteReadModelStore.open({ path: join(directory, 'read-models.sqlite') });
  return Promise.resolve({
    store,
    dispose: async () => {
      await store.close();
      rmSync(directory, { recursive: true, force: true });
    },
  });
}

function openMappedInTemporaryDirectory(): Promise<{ store: SqliteReadModelStore; dispose(): Promise<void> }> {
  const directory = mkdtempSync(join(tmpdir(), 'flagline-read-models-'));
  // A one-entry cache of decoded identities: nearly every read of a flushed identity goes through the map.
  const store = SqliteReadModelStore.open({ path: join(directory, 'read-models.sqlite'), mappedReadBytes: 1 << 20, identityCacheSize: 1 });
  return Promise.resolve({
    store,
    dispose: async () => {
      await store.close();
      rmSync(directory, { recursive: true, force: true });
    },
  });
}

describeReadModelStoreContract('sqlite', openInTemporaryDirectory);
describeBatchReadModelStoreContract('sqlite', openInTemporaryDirectory);
describeReadModelStoreContract('sqlite, identities read through a memory map', openMappedInTemporaryDirectory);
describeBatchReadModelStoreContract('sqlite, identities read through a memory map', openMappedInTemporaryDirectory);

/** Whether this process maps `path` into its memory (Linux's /proc/self/maps; null where there is none). */
function mapsFile(path: string): boolean | null {
  if (!existsSync('/proc/self/maps')) return null;
  return readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .some((line) => line.endsWith(` ${path}`));
}

describe('SqliteReadModelStore', () => {
  let directory: string;
  let path: string;
  const open = (options: Partial<SqliteReadModelStoreOptions> = {}): SqliteReadModelStore => SqliteReadModelStore.open({ path, flushIntervalMs: 60_000, ...options });
  const identity = (n: number): string => `identity:7:user-${n}`;
  const commitIdentities = async (store: SqliteReadModelStore, from: number, to: number): Promise<void> => {
    for (let n = from; n <= to; n++) {
      const applied = await store.commit({
        checkpoint: { key: 'checkpoint:project:1', expected: n - 1, next: n },
        writes: [{ key: identity(n), value: { identifier: `user-${n}`, traits: [{ key: 'n', value: n }] } }],
        changedEnvironments: [],
      });
      expect(applied).toBe(true);
    }
  };
  /** What the file holds, read by a second connection as a restarted process would see it. */
  const onDisk = (): { documents: Record<string, unknown>; checkpoints: Record<string, number>; consumers: Record<string, number> } => {
    const db = new Database(path, { readonly: true });
    try {
      const documents = Object.fromEntries((db.prepare('SELECT key, value FROM documents ORDER BY key').all() as { key: string; value: string }[]).map((row) => [row.key, JSON.parse(row.value) as unknown]));
      const checkpoints = Object.fromEntries((db.prepare('SELECT key, position FROM checkpoints').all() as { key: string; position: number }[]).map((row) => [row.key, row.position]));
      const consumers = Object.fromEntries((db.prepare('SELECT name, position FROM consumers').all() as { name: string; position: number }[]).map((row) => [row.name, row.position]));
      return { documents, checkpoints, consumers };
    } finally {
      db.close();
    }
  };

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'flagline-read-models-'));
    path = join(directory, 'read-models.sqlite');
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('keeps documents, checkpoints and consumer positions across a close and a reopen', async () => {
    const store = open();
    expect(store.created).toBe(true);
    expect(store.recreatedBecause).toBeNull();
    await store.commit({ checkpoint: { key: 'checkpoint:project:1', expected: 0, next: 3 }, writes: [{ key: 'environment:7', value: { environmentId: 7, features: [{ id: 1 }] } }, { key: identity(1), value: { identifier: 'user-1' } }], changedEnvironments: [7] });
    await store.consumerCheckpoints().save('relay', 4);
    await store.close();

    const reopened = open();
    expect(reopened.created).toBe(false);
    expect(await reopened.get('environment:7')).toEqual({ environmentId: 7, features: [{ id: 1 }] });
    expect(await reopened.get(identity(1))).toEqual({ identifier: 'user-1' });
    expect(await reopened.checkpoint('checkpoint:project:1')).toBe(3);
    expect(await reopened.consumerCheckpoints().load('relay')).toBe(4);
    await reopened.close();
  });

  it('serves commits from memory at once and persists them later, each checkpoint in the transaction of its documents', async () => {
    const store = open();
    const seen: number[][] = [];
    store.subscribe((change) => seen.push([...change.environmentIds]));
    await store.commit({ checkpoint: { key: 'checkpoint:project:1', expected: 0, next: 1 }, writes: [{ key: 'environment:7', value: { revision: 1 } }, { key: identity(1), value: { n: 1 } }], changedEnvironments: [7] });
    await store.consumerCheckpoints().save('relay', 1);
    expect(seen).toEqual([[7]]);
    expect(await store.get(identity(1))).toEqual({ n: 1 });
    expect(onDisk()).toEqual({ documents: {}, checkpoints: {}, consumers: { relay: 0 } });

    store.flush();
    expect(onDisk()).toEqual({ documents: { 'environment:7': { revision: 1 }, [identity(1)]: { n: 1 } }, checkpoints: { 'checkpoint:project:1': 1 }, consumers: { relay: 1 } });
    await store.close();
  });

  it('after a crash (closed without a flush), a reopened file holds the last flushed state, consistent with its checkpoints', async () => {
    const store = open();
    await commitIdentities(store, 1, 5);
    store.flush();
    await commitIdentities(store, 6, 8);
    // No close: the process dies with three commits pending. A second opener sees the state of the flush.
    const restarted = open({ integrityCheck: 'quick' });
    expect(await restarted.checkpoint('checkpoint:project:1')).toBe(5);
    expect(await restarted.get(identity(5))).toEqual({ identifier: 'user-5', traits: [{ key: 'n', value: 5 }] });
    expect(await restarted.get(identity(6))).toBeNull();
    await restarted.close();
    await store.close();
  });

  it('writes identities many to a statement: a file holds each document once, as last committed, across flushes', async () => {
    const store = open();
    await commitIdentities(store, 1, 150);
    store.flush();
    await store.commit({
      checkpoint: { key: 'checkpoint:project:1', expected: 150, next: 151 },
      writes: [...Array.from({ length: 70 }, (_, n) => ({ key: identity(n + 40), value: { again: n + 40 } })), { key: identity(3), delete: true }, { key: identity(151), value: { n: 151 } }],
      changedEnvironments: [],
    });
    store.flush();
    const expected: Record<string, unknown> = {};
    for (let n = 1; n <= 150; n++) if (n !== 3) expected[identity(n)] = n >= 40 && n < 110 ? { again: n } : { identifier: `user-${n}`, traits: [{ key: 'n', value: n }] };
    expected[identity(151)] = { n: 151 };
    expect(onDisk().documents).toEqual(expected);
    await store.close();
  });

  it('writes nothing a failed flush had waiting: a document deleted since stays deleted', async () => {
    const store = open();
    await store.commit({ checkpoint: { key: 'checkpoint:project:1', expected: 0, next: 5 }, writes: [{ key: identity(5), value: { n: 5 } }], changedEnvironments: [] });
    store.flush();
    await store.commit({
      checkpoint: { key: 'checkpoint:project:1', expected: 5, next: 6 },
      writes: [...[1, 2, 3, 4].map((n) => ({ key: identity(n), value: { n } })), { key: identity(5), delete: true }],
      changedEnvironments: [],
    });
    const other = new Database(path);
    other.exec("CREATE TRIGGER refuse BEFORE DELETE ON documents BEGIN SELECT RAISE(ABORT, 'refused'); END");
    // The delete comes after the four identities in key order: they wait in the failed transaction's statement.
    expect(() => store.flush()).toThrow(/refused/);
    other.exec('DROP TRIGGER refuse');
    other.close();
    await store.commit({ checkpoint: { key: 'checkpoint:project:1', expected: 6, next: 7 }, writes: [{ key: identity(1), delete: true }], changedEnvironments: [] });
    store.flush();
    expect(onDisk().documents).toEqual({ [identity(2)]: { n: 2 }, [identity(3)]: { n: 3 }, [identity(4)]: { n: 4 } });
    expect(onDisk().checkpoints).toEqual({ 'checkpoint:project:1': 7 });
    await store.close();
  });

  it('keeps a bounded number of decoded identities and reads the others back from the file', async () => {
    const store = open({ identityCacheSize: 3, flushAtDirty: 1_000_000 });
    await commitIdentities(store, 1, 20);
    store.flush();
    const all = await store.getMany<{ identifier: string }>(Array.from({ length: 20 }, (_, i) => identity(i + 1)));
    expect(all.map((document) => document?.identifier)).toEqual(Array.from({ length: 20 }, (_, i) => `user-${i + 1}`));
    await store.close();
  });

  it('drops the least recently read identity first: one read again stays decoded, one not read is parsed anew', async () => {
    const store = open({ identityCacheSize: 2, flushAtDirty: 1_000_000 });
    await commitIdentities(store, 1, 3);
    store.flush();
    const first = await store.get(identity(1));
    const second = await store.get(identity(2));
    // Reading 1 again makes 2 the least recently used, so reading 3 drops 2, not 1.
    expect(await store.get(identity(1))).toBe(first);
    await store.get(identity(3));
    expect(await store.get(identity(1))).toBe(first);
    const secondAgain = await store.get(identity(2));
    expect(secondAgain).not.toBe(second);
    expect(secondAgain).toEqual(second);
    // An identity known absent is cached as such, and a later write of it is read.
    expect(await store.get(identity(9))).toBeNull();
    await store.commit({ checkpoint: { key: 'checkpoint:project:1', expected: 3, next: 4 }, writes: [{ key: identity(9), value: { identifier: 'user-9' } }], changedEnvironments: [] });
    expect(await store.get(identity(9))).toEqual({ identifier: 'user-9' });
    store.flush();
    expect(await store.get(identity(9))).toEqual({ identifier: 'user-9' });
    // The synchronous read answers the same documents, and fails once the store is closed.
    expect(store.getNow(identity(9))).toBe(await store.get(identity(9)));
    expect(store.getNow(identity(10))).toBeNull();
    // What it reads from the file is not kept in the cache: each read parses anew.
    await store.get(identity(1));
    await store.get(identity(2));
    const fromFile = store.getNow(identity(3));
    expect(fromFile).toEqual({ identifier: 'user-3', traits: [{ key: 'n', value: 3 }] });
    expect(store.getNow(identity(3))).not.toBe(fromFile);
    await store.close();
    expect(() => store.getNow(identity(9))).toThrow('closed');
  });

  it('reads identities through a memory map of the file when asked, on a second connection: flushed writes and deletes are seen, an erasure still truncates the WAL, close unmaps it', async () => {
    const maps = mapsFile(path);
    if (maps === null) console.warn('skipped the checks of the mapping: this system has no /proc/self/maps');
    const store = open({ identityCacheSize: 1, flushAtDirty: 1_000_000, mappedReadBytes: 1 << 20 });
    await commitIdentities(store, 1, 20);
    // Copied from the WAL into the file itself, where the map reaches them.
    store.scrub();
    // Nothing is mapped until a read of the file: loading identities maps nothing.
    if (maps !== null) expect(mapsFile(path)).toBe(false);
    expect(store.getNow(identity(5))).toEqual({ identifier: 'user-5', traits: [{ key: 'n', value: 5 }] });
    if (maps !== null) expect(mapsFile(path)).toBe(true);
    await store.commit({
      checkpoint: { key: 'checkpoint:project:1', expected: 20, next: 21 },
      writes: [
        { key: identity(5), delete: true },
        { key: identity(6), value: { identifier: 'user-6', traits: [] } },
      ],
      changedEnvironments: [],
    });
    store.flush();
    await store.get(identity(1));
    expect(store.getNow(identity(5))).toBeNull();
    expect(store.getNow(identity(6))).toEqual({ identifier: 'user-6', traits: [] });
    expect(store.getNow(identity(7))).toEqual({ identifier: 'user-7', traits: [{ key: 'n', value: 7 }] });
    store.scrub();
    expect(statSync(`${path}-wal`).size).toBe(0);
    expect(store.getNow(identity(8))).toEqual({ identifier: 'user-8', traits: [{ key: 'n', value: 8 }] });
    await store.close();
    if (maps !== null) expect(mapsFile(path)).toBe(false);
    expect(onDisk().documents[identity(5)]).toBeUndefined();
  });

  it('maps nothing without the option', async () => {
    const store = open({ identityCacheSize: 1, flushAtDirty: 1_000_000 });
    await commitIdentities(store, 1, 3);
    store.flush();
    await store.get(identity(1));
    expect(store.getNow(identity(2))).toEqual({ identifier: 'user-2', traits: [{ key: 'n', value: 2 }] });
    const maps = mapsFile(path);
    if (maps === null) console.warn('skipped the check of the mapping: this system has no /proc/self/maps');
    else expect(maps).toBe(false);
    await store.close();
  });

  it('flushes before a commit returns once too much is pending, so memory stays bounded', async () => {
    const store = open({ maxDirty: 5, flushAtDirty: 1_000_000 });
    await commitIdentities(store, 1, 4);
    expect(store.flushes).toBe(0);
    await commitIdentities(store, 5, 5);
    expect(store.flushes).toBe(1);
    expect(Object.keys(onDisk().documents)).toHaveLength(5);
    await store.close();
  });

  it('lists identity keys from the file and from pending writes, deletions included', async () => {
    const store = open();
    await commitIdentities(store, 1, 3);
    store.flush();
    await store.commit({ checkpoint: { key: 'checkpoint:project:1', expected: 3, next: 4 }, writes: [{ key: identity(2), delete: true }, { key: 'identity:7:new', value: {} }, { key: 'identity:70:other', value: {} }], changedEnvironments: [] });
    expect(await store.keysWithPrefix('identity:7:')).toEqual(['identity:7:new', identity(1), identity(3)]);
    expect(await store.get(identity(2))).toBeNull();
    await store.close();
  });

  it('hands out frozen documents', async () => {
    const store = open();
    await store.commit({ checkpoint: { key: 'c', expected: 0, next: 1 }, writes: [{ key: 'environment:1', value: { features: [{ id: 1 }] } }, { key: identity(1), value: { traits: [{ key: 'a' }] } }], changedEnvironments: [] });
    store.flush();
    const reopened = [await store.get<{ features: { id: number }[] }>('environment:1'), await store.get<{ traits: { key: string }[] }>(identity(1))];
    expect(reopened.every((document) => Object.isFrozen(document))).toBe(true);
    expect(Object.isFrozen((reopened[0] as { features: { id: number }[] }).features[0])).toBe(true);
    await store.close();
  });

  describe('resident documents at the grain of change', () => {
    type Entry = { readonly feature: { readonly id: number; readonly name: string }; readonly state: { readonly enabled: boolean } };
    const entry = (id: number, enabled = false): Entry => ({ feature: { id, name: `feature_${id}` }, state: { enabled } });
    const entries = (count: number): Entry[] => Array.from({ length: count }, (_, index) => entry(index + 1));
    let position = 0;
    const write = async (store: SqliteReadModelStore, key: string, value: unknown): Promise<void> => {
      const writes = [value === undefined ? { key, delete: true as const } : { key, value }];
      expect(await store.commit({ checkpoint: { key: 'c', expected: position, next: position + 1 }, writes, changedEnvironments: [] })).toBe(true);
      position++;
    };
    const rows = (file: string, table: 'documents' | 'document_parts'): unknown[] => {
      const db = new Database(file, { readonly: true });
      try {
        return db.prepare(`SELECT * FROM ${table} ORDER BY 1, 2${table === 'document_parts' ? ', 3' : ''}`).all();
      } finally {
        db.close();
      }
    };
    const parts = (file = path): Record<string, string> =>
      Object.fromEntries((rows(file, 'document_parts') as { key: string; field: string; part: number; value: string }[]).map((row) => [`${row.key} ${row.field} ${row.part}`, row.value]));
    beforeEach(() => {
      position = 0;
    });

    it('writes only the parts of an array whose elements changed, and the head', async () => {
      const store = open();
      const features = entries(200);
      await write(store, 'environment:1', { environmentId: 1, revision: 1, features, segments: [] });
      store.flush();
      expect(Object.keys(parts())).toEqual(['environment:1 features 0', 'environment:1 features 1', 'environment:1 features 2', 'environment:1 features 3']);
      expect(JSON.parse(parts()['environment:1 features 3'] as string)).toEqual(features.slice(192));
      expect(rows(path, 'documents')).toEqual([{ key: 'environment:1', value: '{"environmentId":1,"revision":1,"features":{"\\u0000parts":200},"segments":{"\\u0000parts":0}}' }]);

      // Another writer changes part 0 behind the store's back: a flush that rewrote it would put it back.
      const tampered = JSON.stringify([entry(999), ...features.slice(1, 64)]);
      const db = new Database(path);
      db.prepare(`UPDATE document_parts SET value = ? WHERE key = 'environment:1' AND field = 'features' AND part = 0`).run(tampered);
      db.close();
      // A toggle of the 131st feature: a new element there, every other one the same object.
      const toggled = features.map((element, index) => (index === 130 ? entry(131, true) : element));
      await write(store, 'environment:1', { environmentId: 1, revision: 2, features: toggled, segments: [] });
      store.flush();
      const after = parts();
      expect(after['environment:1 features 0']).toBe(tampered);
      expect(JSON.parse(after['environment:1 features 2'] as string)).toEqual(toggled.slice(128, 192));
      expect((await store.get<{ features: Entry[] }>('environment:1'))?.features[130]?.state.enabled).toBe(true);
      await store.close();

      const reopened = open();
      expect(reopened.created).toBe(false);
      expect(await reopened.get('environment:1')).toEqual({ environmentId: 1, revision: 2, features: [entry(999), ...toggled.slice(1)], segments: [] });
      await reopened.close();
    });

    it('holds the same rows after any series of flushes as a file written once with the final documents, and reopens them as they were', async () => {
      const live = open();
      const features = entries(150);
      await write(live, 'environment:1', { environmentId: 1, features: features.slice(0, 10), segments: [{ id: 1 }] });
      await write(live, 'project:1', { projectId: 1, environmentIds: [1], features: features.slice(0, 10) });
      live.flush();
      await write(live, 'environment:1', { environmentId: 1, features, segments: [{ id: 1 }] });
      await write(live, 'organisation:1', { organisationId: 1, name: 'Acme' });
      live.flush();
      // Shrinks (parts past the end go), a field no longer an array (its parts go), one gone (its parts go).
      await write(live, 'environment:1', { environmentId: 1, features: [...features.slice(0, 64), entry(70, true)], segments: 'none' });
      await write(live, 'project:1', undefined);
      await write(live, 'environment:2', { environmentId: 2, features: features.slice(0, 70) });
      live.flush();
      await write(live, 'environment:2', { environmentId: 2, features: features.slice(0, 65), extra: [] });
      const final = {
        'environment:1': await live.get('environment:1'),
        'environment:2': await live.get('environment:2'),
        'organisation:1': await live.get('organisation:1'),
      };
      await live.close();

      const freshPath = join(directory, 'fresh.sqlite');
      const fresh = SqliteReadModelStore.open({ path: freshPath, flushIntervalMs: 60_000 });
      position = 0;
      for (const [key, value] of Object.entries(final)) await write(fresh, key, JSON.parse(JSON.stringify(value)) as unknown);
      await fresh.close();
      expect(rows(path, 'documents')).toEqual(rows(freshPath, 'documents'));
      expect(rows(path, 'document_parts')).toEqual(rows(freshPath, 'document_parts'));
      expect(Object.keys(parts())).toEqual(['environment:1 features 0', 'environment:1 features 1', 'environment:2 features 0', 'environment:2 features 1']);

      const reopened = open();
      for (const [key, value] of Object.entries(final)) expect(await reopened.get(key)).toEqual(value);
      expect(Object.isFrozen((await reopened.get<{ features: Entry[] }>('environment:1'))?.features[64])).toBe(true);
      await reopened.close();
    });

    it('replaces a file whose documents do not fit together (a part missing) by an empty one', async () => {
      const store = open();
      await write(store, 'environment:1', { environmentId: 1, features: entries(130) });
      await store.close();
      const db = new Database(path);
      db.prepare('DELETE FROM document_parts WHERE part = 1').run();
      db.close();
      const reopened = open();
      expect(reopened.created).toBe(true);
      expect(reopened.recreatedBecause).toMatch(/damaged: part 2 of environment:1 features follows 1 parts/);
      expect(await reopened.get('environment:1')).toBeNull();
      expect(await reopened.checkpoint('c')).toBe(0);
      await reopened.close();
    });

    it('replaces a file of the layout before (whole documents, version 1) by an empty one', async () => {
      const store = open();
      await write(store, 'environment:1', { environmentId: 1, features: entries(3) });
      await store.close();
      const db = new Database(path);
      db.prepare(`UPDATE meta SET value = '1' WHERE name = 'fileVersion'`).run();
      db.exec('DROP TABLE document_parts');
      db.close();
      const reopened = open();
      expect(reopened.recreatedBecause).toBe('file version is 1, not 2');
      expect(await reopened.get('environment:1')).toBeNull();
      await reopened.close();
    });
  });

  describe('a file that cannot be served is replaced by an empty one, never read', () => {
    const filled = async (): Promise<void> => {
      const store = open();
      for (let n = 1; n <= 2_000; n++) await store.commit({ checkpoint: { key: 'c', expected: n - 1, next: n }, writes: [{ key: identity(n), value: { padding: 'x'.repeat(200), n } }], changedEnvironments: [] });
      await store.consumerCheckpoints().save('relay', 2_000);
      await store.close();
    };
    const expectReplaced = async (reason: RegExp): Promise<void> => {
      const store = open();
      expect(store.created).toBe(true);
      expect(store.recreatedBecause).toMatch(reason);
      expect(await store.consumerCheckpoints().load('relay')).toBe(0);
      expect(await store.get(identity(1))).toBeNull();
      expect(await store.checkpoint('c')).toBe(0);
      await store.close();
      const again = open();
      expect(again.created).toBe(false);
      await again.close();
    };

    it('torn: cut short in the middle', async () => {
      await filled();
      truncateSync(path, Math.floor(statSync(path).size / 2));
      await expectReplaced(/integrity|cannot be read/);
    });

    it('corrupted: pages overwritten', async () => {
      await filled();
      const fd = openSync(path, 'r+');
      writeSync(fd, Buffer.alloc(4096 * 3, 0xab), 0, 4096 * 3, 4096 * 2);
      closeSync(fd);
      await expectReplaced(/integrity|cannot be read/);
    });

    it('not a database at all', async () => {
      writeFileSync(path, 'hello, this is not SQLite '.repeat(100));
      await expectReplaced(/cannot be read/);
    });

    it('foreign: a SQLite file of something else', async () => {
      const db = new Database(path);
      db.exec('CREATE TABLE things (id INTEGER PRIMARY KEY)');
      db.close();
      await expectReplaced(/not a read-model file/);
    });

    it('another document schema version', async () => {
      await filled();
      const db = new Database(path);
      db.prepare(`UPDATE meta SET value = '0' WHERE name = 'documentSchemaVersion'`).run();
      db.close();
      await expectReplaced(/document schema version is 0/);
    });

    it('derived from a longer log: its consumer position is past the log head', async () => {
      await filled();
      const store = open({ logHead: 1_999 });
      expect(store.recreatedBecause).toMatch(/relay checkpoint \(2000\) is past the end of the event log \(1999\)/);
      await store.close();
      const again = open({ logHead: 0 });
      expect(again.created).toBe(false);
      await again.close();
    });

    it('its consumer checkpoint row missing', async () => {
      await filled();
      const db = new Database(path);
      db.prepare('DELETE FROM consumers').run();
      db.close();
      await expectReplaced(/relay checkpoint row is missing/);
    });
  });
});

describe('SqliteReadModelStore tracking the identities it wrote (rebuild into a new file)', () => {
  it('answers identities never written without the file, and written ones (evicted from the cache) from it', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'flagline-read-models-'));
    const store = SqliteReadModelStore.open({ path: join(directory, 'read-models.sqlite'), trackWrittenIdentities: true, identityCacheSize: 2, flushIntervalMs: 60_000 });
    try {
      for (let n = 1; n <= 50; n++) {
        await store.commit({ checkpoint: { key: 'c', expected: n - 1, next: n }, writes: [{ key: `identity:1:u${n}`, value: { n } }], changedEnvironments: [] });
        if (n % 10 === 0) store.flush();
      }
      await store.commit({ checkpoint: { key: 'c', expected: 50, next: 51 }, writes: [{ key: 'identity:1:u7', delete: true }], changedEnvironments: [] });
      store.flush();
      const read = await store.getMany<{ n: number }>(Array.from({ length: 52 }, (_, i) => `identity:1:u${i}`));
      expect(read.map((document) => document?.n ?? null)).toEqual(Array.from({ length: 52 }, (_, i) => (i >= 1 && i <= 50 && i !== 7 ? i : null)));
    } finally {
      await store.close();
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe('SqliteReadModelStore tracking the identities of an existing file (the standalone app after a restart)', () => {
  const waitForFilter = async (store: SqliteReadModelStore): Promise<void> => {
    for (let turn = 0; turn < 10_000 && !store.identityFilterComplete; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(store.identityFilterComplete).toBe(true);
  };

  it('reads the file until its identity keys are all in the filter, then answers a key it does not hold without the file', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'flagline-read-models-'));
    const path = join(directory, 'read-models.sqlite');
    try {
      const first = SqliteReadModelStore.open({ path, flushIntervalMs: 60_000 });
      const writes = Array.from({ length: 3_000 }, (_, n) => ({ key: `identity:1:u${n}`, value: { n } }));
      await first.commit({ checkpoint: { key: 'c', expected: 0, next: 1 }, writes: [...writes, { key: 'environment:1', value: { id: 1 } }], changedEnvironments: [] });
      await first.close();

      const store = SqliteReadModelStore.open({ path, trackWrittenIdentities: true, identityCacheSize: 2, flushIntervalMs: 60_000 });
      try {
        // Filled behind: not complete at open, so no read is answered from it yet.
        expect(store.identityFilterComplete).toBe(false);
        // A row another writer put in the file shows whether a read still goes to the file.
        const other = new Database(path);
        other.prepare('INSERT INTO documents (key, value) VALUES (?, ?)').run('identity:1:outside', '{"n":-1}');
        expect(store.getNow<{ n: number }>('identity:1:outside')).toEqual({ n: -1 });
        await waitForFilter(store);
        // Every key of the file is found (no key left out of the filter, across its slices)...
        const read = Array.from({ length: 3_000 }, (_, n) => store.getNow<{ n: number }>(`identity:1:u${n}`)?.n ?? null);
        expect(read).toEqual(Array.from({ length: 3_000 }, (_, n) => n));
        // ...and one written after the fill passed its place, through the store, too.
        await store.commit({ checkpoint: { key: 'c', expected: 1, next: 2 }, writes: [{ key: 'identity:1:a-new-one', value: { n: 3_000 } }], changedEnvironments: [] });
        store.flush();
        expect(store.getNow<{ n: number }>('identity:1:a-new-one')).toEqual({ n: 3_000 });
        // A key the filter never saw (written behind the store's back after the fill) is answered absent without the file.
        other.prepare('INSERT INTO documents (key, value) VALUES (?, ?)').run('identity:1:behind-its-back', '{"n":-2}');
        other.close();
        expect(store.getNow('identity:1:behind-its-back')).toBeNull();
        expect(store.getNow('environment:1')).toEqual({ id: 1 });
      } finally {
        await store.close();
      }
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('stops filling at close, and without the option an existing file has no filter', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'flagline-read-models-'));
    const path = join(directory, 'read-models.sqlite');
    try {
      const first = SqliteReadModelStore.open({ path, trackWrittenIdentities: true, flushIntervalMs: 60_000 });
      // A file created empty holds every key it will ever hold in its filter from the start.
      expect(first.identityFilterComplete).toBe(true);
      await first.commit({ checkpoint: { key: 'c', expected: 0, next: 1 }, writes: Array.from({ length: 1_000 }, (_, n) => ({ key: `identity:1:u${n}`, value: { n } })), changedEnvironments: [] });
      await first.close();
      const untracked = SqliteReadModelStore.open({ path, flushIntervalMs: 60_000 });
      await new Promise((resolve) => setImmediate(resolve));
      expect(untracked.identityFilterComplete).toBe(false);
      await untracked.close();
      const closedEarly = SqliteReadModelStore.open({ path, trackWrittenIdentities: true, flushIntervalMs: 60_000 });
      await closedEarly.close();
      // A slice scheduled before the close does not touch the closed file (it would throw).
      await new Promise((resolve) => setImmediate(resolve));
      expect(closedEarly.identityFilterComplete).toBe(false);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
