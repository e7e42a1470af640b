import { indexKeyOf } from '@flagline/event-sourcing';
import { InMemoryTreeStore, nodesForAppend } from '@flagline/transparency';
import { appendSample, describeTreeStoreContract, sampleLeaves } from '@flagline/transparency/testing';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KEYS_FOLDED_EVERY, LEAVES_PAGE_SQL, SqliteTreeStore, TreeFileError } from './sqlite-tree.store';

describeTreeStoreContract(
  'SQLite',
  () => {
    const directory = mkdtempSync(join(tmpdir(), 'flagline-tree-'));
    const path = join(directory, 'transparency.sqlite');
    let current = SqliteTreeStore.open(path);
    return {
      store: current,
      reopen: () => (current = SqliteTreeStore.open(path)),
      dispose: () => {
        current.close();
        rmSync(directory, { recursive: true, force: true });
      },
    };
  },
  { durable: true },
);

describe('a page of leaves', () => {
  it('is read from its first leaf to its limit, without sorting the leaves after it', () => {
    const directory = mkdtempSync(join(tmpdir(), 'flagline-tree-page-'));
    const path = join(directory, 'transparency.sqlite');
    const store = SqliteTreeStore.open(path);
    try {
      appendSample(store, 300);
      expect(store.leaves(290, 5).map((leaf) => leaf.index)).toEqual([290, 291, 292, 293, 294]);
      expect(store.leaves(298, 5).map((leaf) => leaf.eventId)).toEqual(['event-298', 'event-299']);
      const db = new Database(path, { readonly: true });
      try {
        const plan = (db.prepare(`EXPLAIN QUERY PLAN ${LEAVES_PAGE_SQL}`).all(290, 5) as { detail: string }[]).map((row) => row.detail);
        // A temporary B-tree would hold every leaf from the first asked for to the end of the tree.
        expect(plan.join(' | ')).not.toMatch(/TEMP B-TREE/);
        expect(plan.join(' | ')).toMatch(/PRIMARY KEY \(level=\? AND idx>\?\)/);
      } finally {
        db.close();
      }
    } finally {
      store.close();
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe('SQLite tree files of earlier schemas, and finding leaves by event id', () => {
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'flagline-tree-v1-'));
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  /** A file as schema 1 wrote it: the same tables, `event_id` indexed as text, no `event_key`. */
  function writeSchema1(path: string, count: number): void {
    const db = new Database(path);
    db.exec(`
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE leaves (idx INTEGER PRIMARY KEY, position INTEGER NOT NULL UNIQUE, event_id TEXT NOT NULL);
      CREATE INDEX leaves_by_event ON leaves (event_id);
      CREATE TABLE nodes (level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID;
      CREATE TABLE heads (tree_size INTEGER NOT NULL, key_id TEXT NOT NULL, root_hash TEXT NOT NULL, timestamp INTEGER NOT NULL, signature TEXT NOT NULL, PRIMARY KEY (tree_size, key_id)) WITHOUT ROWID;
      INSERT INTO meta (key, value) VALUES ('schema', '1');
    `);
    const leaves = sampleLeaves(0, count);
    const nodes = nodesForAppend(new InMemoryTreeStore(), 0, leaves.map((leaf) => leaf.hash));
    for (const leaf of leaves) db.prepare('INSERT INTO leaves (idx, position, event_id) VALUES (?, ?, ?)').run(leaf.index, leaf.position, leaf.eventId);
    for (const node of nodes) db.prepare('INSERT INTO nodes (level, idx, hash) VALUES (?, ?, ?)').run(node.level, node.index, node.hash);
    db.close();
  }

  it('is migrated at open: every leaf is found by its event id, the old index is gone, and appends go on', () => {
    const path = join(directory, 'transparency.sqlite');
    writeSchema1(path, 37);
    const store = SqliteTreeStore.open(path);
    try {
      expect(store.size).toBe(37);
      for (let index = 0; index < 37; index++) expect(store.leafIndexOfEvent(`event-${index}`)).toBe(index);
      expect(store.leafIndexOfEvent('event-37')).toBeUndefined();
      appendSample(store, 5);
      expect(store.leafIndexOfEvent('event-40')).toBe(40);
    } finally {
      store.close();
    }
    const db = new Database(path, { readonly: true });
    try {
      expect(db.prepare("SELECT value FROM meta WHERE key = 'schema'").get()).toEqual({ value: '3' });
      const indexes = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'leaves'").all() as { name: string }[]).map((row) => row.name);
      expect(indexes).not.toContain('leaves_by_event_key');
      expect(indexes).not.toContain('leaves_by_event');
      expect(db.prepare('SELECT count(*) AS n FROM event_keys').get()).toEqual({ n: 37 });
    } finally {
      db.close();
    }
  });

  /** A file as schema 2 wrote it: each leaf's `event_key` indexed in `leaves` as it was appended, no `event_keys`. */
  function writeSchema2(path: string, count: number): void {
    const db = new Database(path);
    db.exec(`
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE leaves (idx INTEGER PRIMARY KEY, position INTEGER NOT NULL UNIQUE, event_id TEXT NOT NULL, event_key INTEGER NOT NULL);
      CREATE INDEX leaves_by_event_key ON leaves (event_key);
      CREATE TABLE nodes (level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID;
      CREATE TABLE heads (tree_size INTEGER NOT NULL, key_id TEXT NOT NULL, root_hash TEXT NOT NULL, timestamp INTEGER NOT NULL, signature TEXT NOT NULL, PRIMARY KEY (tree_size, key_id)) WITHOUT ROWID;
      INSERT INTO meta (key, value) VALUES ('schema', '2');
    `);
    const leaves = sampleLeaves(0, count);
    const nodes = nodesForAppend(new InMemoryTreeStore(), 0, leaves.map((leaf) => leaf.hash));
    for (const leaf of leaves) db.prepare('INSERT INTO leaves (idx, position, event_id, event_key) VALUES (?, ?, ?, ?)').run(leaf.index, leaf.position, leaf.eventId, indexKeyOf(leaf.eventId));
    for (const node of nodes) db.prepare('INSERT INTO nodes (level, idx, hash) VALUES (?, ?, ?)').run(node.level, node.index, node.hash);
    db.close();
  }

  it('migrates a file of schema 2 at open: its leaves keyed in event_keys, the index of leaves.event_key gone, the same root, appends go on', () => {
    const path = join(directory, 'transparency.sqlite');
    writeSchema2(path, 53);
    const expected = new InMemoryTreeStore();
    appendSample(expected, 53);
    const store = SqliteTreeStore.open(path);
    try {
      expect(store.size).toBe(53);
      for (let index = 0; index < 53; index++) expect(store.leafIndexOfEvent(`event-${index}`)).toBe(index);
      expect(store.leaves(0, 53).map((leaf) => leaf.hash.toString('hex'))).toEqual(expected.leaves(0, 53).map((leaf) => leaf.hash.toString('hex')));
      appendSample(store, 4);
      expect(store.leafIndexOfEvent('event-56')).toBe(56);
      expect(store.leafIndexOfEvent('event-57')).toBeUndefined();
    } finally {
      store.close();
    }
    const db = new Database(path, { readonly: true });
    try {
      expect(db.prepare("SELECT value FROM meta WHERE key = 'schema'").get()).toEqual({ value: '3' });
      expect(db.prepare("SELECT value FROM meta WHERE key = 'keyed_upto'").get()).toEqual({ value: '53' });
      expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'leaves_by_event_key'").get()).toBeUndefined();
    } finally {
      db.close();
    }
  });

  it(`finds every leaf by its event id, before and after its key is written to event_keys (every ${KEYS_FOLDED_EVERY} leaves, sorted), and after a reopen`, () => {
    const path = join(directory, 'transparency.sqlite');
    const total = 2 * KEYS_FOLDED_EVERY + 300;
    let store = SqliteTreeStore.open(path);
    try {
      // In the follower's batch sizes, so a fold happens inside an append that crosses the boundary.
      while (store.size < total) appendSample(store, Math.min(200, total - store.size));
      const keyed = (): number => {
        const db = new Database(path, { readonly: true });
        try {
          return (db.prepare('SELECT count(*) AS n FROM event_keys').get() as { n: number }).n;
        } finally {
          db.close();
        }
      };
      // Two folds: the keys of the leaves up to the append that reached each boundary; the last leaves are scanned.
      const folded = keyed();
      expect(folded).toBeGreaterThanOrEqual(2 * KEYS_FOLDED_EVERY);
      expect(folded).toBeLessThan(total);
      const probe = [0, 1, KEYS_FOLDED_EVERY - 1, KEYS_FOLDED_EVERY, folded - 1, folded, total - 1];
      for (const index of probe) expect(store.leafIndexOfEvent(`event-${index}`)).toBe(index);
      for (let index = 0; index < total; index += 97) expect(store.leafIndexOfEvent(`event-${index}`)).toBe(index);
      expect(store.leafIndexOfEvent(`event-${total}`)).toBeUndefined();
      store.close();
      store = SqliteTreeStore.open(path);
      for (const index of probe) expect(store.leafIndexOfEvent(`event-${index}`)).toBe(index);
      appendSample(store, KEYS_FOLDED_EVERY);
      expect(keyed()).toBe(total + KEYS_FOLDED_EVERY);
      for (const index of [...probe, total, total + KEYS_FOLDED_EVERY - 1]) expect(store.leafIndexOfEvent(`event-${index}`)).toBe(index);
    } finally {
      store.close();
    }
  });

  it('finds an event by its own id when another id shares its key', () => {
    const path = join(directory, 'transparency.sqlite');
    const store = SqliteTreeStore.open(path);
    try {
      appendSample(store, 3);
      // Two leaves whose ids hash alike: the second row gets the first one's key written in by hand.
      const db = new Database(path);
      db.prepare('UPDATE leaves SET event_key = ? WHERE idx = 2').run(indexKeyOf('event-1'));
      db.close();
      expect(store.leafIndexOfEvent('event-1')).toBe(1);
      expect(store.leafIndexOfEvent('event-2')).toBeUndefined();
    } finally {
      store.close();
    }
  });

  it('refuses a file of a schema it does not know', () => {
    const path = join(directory, 'transparency.sqlite');
    SqliteTreeStore.open(path).close();
    const db = new Database(path);
    db.prepare("UPDATE meta SET value = '9' WHERE key = 'schema'").run();
    db.close();
    expect(() => SqliteTreeStore.open(path)).toThrow(TreeFileError);
  });
});
