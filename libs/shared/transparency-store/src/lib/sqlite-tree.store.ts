import { checkAppend, type StoredTreeHead, type SubtreeNode, type TransparencyTreeStore, type TreeLeaf } from '@flagline/transparency';
import { indexKeyOf } from '@flagline/event-sourcing';
import Database from 'better-sqlite3';

/** File name of the tree in a data directory. */
export const TRANSPARENCY_FILE_NAME = 'transparency.sqlite';

/**
 * 3: leaves are found by event id through `event_key`, a 53-bit hash of the id (`indexKeyOf`), the
 * id itself checked on read, in `event_keys`: (key, leaf index) pairs written in bulk, sorted by
 * key, once `KEYS_FOLDED_EVERY` leaves have no pair yet (`meta.keyed_upto` says how many have);
 * the leaves after it are found by scanning them. An index of the keys written with each leaf put
 * every leaf's random key at a random page of the index: about half of an append's SQLite time
 * (one page per leaf to rewrite in the WAL once the index outgrows the cache), where sorted
 * batches rewrite each page once for many keys. 2 indexed `leaves.event_key` with each leaf;
 * 1 indexed `event_id`. A file of either is migrated at open.
 */
const SCHEMA_VERSION = 3;

/**
 * Leaves whose keys are written to `event_keys` together, sorted: a lookup by event id scans at
 * most this many leaves (about a millisecond), and the append that reaches it writes them (a few
 * milliseconds).
 */
export const KEYS_FOLDED_EVERY = 4096;

interface LeafRow {
  readonly idx: number;
  readonly position: number;
  readonly event_id: string;
  readonly hash: Buffer;
}

interface HeadRow {
  readonly tree_size: number;
  readonly key_id: string;
  readonly root_hash: string;
  readonly timestamp: number;
  readonly signature: string;
}

/** Thrown when a file is not a tree this code can read. */
export class TreeFileError extends Error {
  override readonly name = 'TreeFileError';
}

/**
 * A page of leaves from an index. Ordered by n.idx (equal to l.idx): SQLite walks nodes' primary
 * key from the first leaf asked for and stops at the limit. Ordered by l.idx it sorted every leaf
 * from there to the end in a temporary B-tree first, so a page of the start-up check cost in
 * proportion to the leaves after it (450 ms at the start of 1,000,000) and the check was quadratic.
 */
export const LEAVES_PAGE_SQL = 'SELECT l.idx, l.position, l.event_id, n.hash FROM leaves l JOIN nodes n ON n.level = 0 AND n.idx = l.idx WHERE l.idx >= ? ORDER BY n.idx LIMIT ?';

/**
 * The log's Merkle tree in SQLite: leaves (index, position, event id), the hash of every complete
 * subtree (level 0 are the leaf hashes), and the signed tree heads. An append (leaves and the nodes
 * they complete) is one transaction, so a crash leaves a whole tree of some size.
 */
export class SqliteTreeStore implements TransparencyTreeStore {
  private leafCount: number;
  private lastPosition: number | undefined;
  /** Leaves (from index 0) whose event keys are in `event_keys`; the ones after are scanned. */
  private keyedUpTo: number;
  private readonly statements: {
    node: Database.Statement<[number, number], { hash: Buffer }>;
    leaf: Database.Statement<[number], LeafRow>;
    leaves: Database.Statement<[number, number], LeafRow>;
    byPosition: Database.Statement<[number], { idx: number }>;
    byEvent: Database.Statement<[number, number, number], { idx: number; event_id: string }>;
    foldKeys: Database.Statement<[number]>;
    setKeyedUpTo: Database.Statement<[string]>;
    insertLeaf: Database.Statement<[number, number, string, number]>;
    insertNode: Database.Statement<[number, number, Buffer]>;
    head: Database.Statement<[number, string], HeadRow>;
    insertHead: Database.Statement<[number, string, string, number, string]>;
  };

  private constructor(private readonly db: Database.Database) {
    this.statements = {
      node: db.prepare('SELECT hash FROM nodes WHERE level = ? AND idx = ?'),
      leaf: db.prepare('SELECT l.idx, l.position, l.event_id, n.hash FROM leaves l JOIN nodes n ON n.level = 0 AND n.idx = l.idx WHERE l.idx = ?'),
      leaves: db.prepare(LEAVES_PAGE_SQL),
      byPosition: db.prepare('SELECT idx FROM leaves WHERE position = ?'),
      byEvent: db.prepare(
        'SELECT l.idx, l.event_id FROM event_keys k JOIN leaves l ON l.idx = k.idx WHERE k.event_key = ? UNION ALL SELECT idx, event_id FROM leaves WHERE idx >= ? AND event_key = ?',
      ),
      foldKeys: db.prepare('INSERT INTO event_keys (event_key, idx) SELECT event_key, idx FROM leaves WHERE idx >= ? ORDER BY event_key, idx'),
      setKeyedUpTo: db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('keyed_upto', ?)"),
      insertLeaf: db.prepare('INSERT INTO leaves (idx, position, event_id, event_key) VALUES (?, ?, ?, ?)'),
      insertNode: db.prepare('INSERT OR REPLACE INTO nodes (level, idx, hash) VALUES (?, ?, ?)'),
      head: db.prepare('SELECT tree_size, key_id, root_hash, timestamp, signature FROM heads WHERE tree_size = ? AND key_id = ?'),
      insertHead: db.prepare('INSERT OR IGNORE INTO heads (tree_size, key_id, root_hash, timestamp, signature) VALUES (?, ?, ?, ?, ?)'),
    };
    this.readEnd = db.prepare('SELECT idx, position FROM leaves ORDER BY idx DESC LIMIT 1');
    this.readKeyedUpTo = db.prepare("SELECT value FROM meta WHERE key = 'keyed_upto'");
    this.leafCount = 0;
    this.keyedUpTo = 0;
    this.refresh();
  }

  private readonly readEnd: Database.Statement<[], { idx: number; position: number }>;
  private readonly readKeyedUpTo: Database.Statement<[], { value: string }>;

  /** Reads the tree's size again: another connection (the follower's worker thread) appends to the file. */
  refresh(): void {
    const last = this.readEnd.get();
    this.leafCount = last ? last.idx + 1 : 0;
    this.lastPosition = last?.position;
    this.keyedUpTo = Number(this.readKeyedUpTo.get()?.value ?? 0);
  }

  /** Opens (or creates) the tree file at `path`. */
  static open(path: string): SqliteTreeStore {
    const db = new Database(path);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.exec(`
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS nodes (level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS heads (tree_size INTEGER NOT NULL, key_id TEXT NOT NULL, root_hash TEXT NOT NULL, timestamp INTEGER NOT NULL, signature TEXT NOT NULL, PRIMARY KEY (tree_size, key_id)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS event_keys (event_key INTEGER NOT NULL, idx INTEGER NOT NULL, PRIMARY KEY (event_key, idx)) WITHOUT ROWID;
      `);
      const version = db.prepare("SELECT value FROM meta WHERE key = 'schema'").get() as { value: string } | undefined;
      if (version === undefined) {
        db.transaction(() => {
          db.exec('CREATE TABLE leaves (idx INTEGER PRIMARY KEY, position INTEGER NOT NULL UNIQUE, event_id TEXT NOT NULL, event_key INTEGER NOT NULL);');
          db.prepare("INSERT INTO meta (key, value) VALUES ('schema', ?)").run(String(SCHEMA_VERSION));
        })();
      } else if (version.value === '1') {
        migrateFromSchema1(db);
        migrateFromSchema2(db);
      } else if (version.value === '2') migrateFromSchema2(db);
      else if (version.value !== String(SCHEMA_VERSION)) throw new TreeFileError(`${path} holds a tree of schema ${version.value}; this code reads schema ${SCHEMA_VERSION}`);
      return new SqliteTreeStore(db);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  get size(): number {
    return this.leafCount;
  }

  node(level: number, index: number): Buffer {
    const row = this.statements.node.get(level, index);
    if (!row) throw new RangeError(`The tree holds no complete subtree at level ${level}, index ${index}`);
    return row.hash;
  }

  leaf(index: number): TreeLeaf | undefined {
    const row = this.statements.leaf.get(index);
    return row && leafOf(row);
  }

  leaves(index: number, count: number): TreeLeaf[] {
    return this.statements.leaves.all(index, count).map(leafOf);
  }

  // The look-ups below answer only leaves of the tree as this connection knows it (`size`): the
  // follower's thread commits leaves to the file before this connection is `refresh`ed, and a leaf
  // found past `size` would be named in no tree a proof can be asked for yet.

  leafIndexAtPosition(position: number): number | undefined {
    return this.known(this.statements.byPosition.get(position)?.idx);
  }

  leafIndexOfEvent(eventId: string): number | undefined {
    // Another id may share the key: the one whose id is this.
    const key = indexKeyOf(eventId);
    return this.known(this.statements.byEvent.all(key, this.keyedUpTo, key).find((row) => row.event_id === eventId)?.idx);
  }

  private known(index: number | undefined): number | undefined {
    return index !== undefined && index < this.leafCount ? index : undefined;
  }

  append(leaves: readonly TreeLeaf[], nodes: readonly SubtreeNode[]): void {
    checkAppend(this.leafCount, leaves, this.lastPosition);
    this.db.transaction(() => {
      for (const leaf of leaves) this.statements.insertLeaf.run(leaf.index, leaf.position, leaf.eventId, indexKeyOf(leaf.eventId));
      for (const node of nodes) this.statements.insertNode.run(node.level, node.index, node.hash);
      const size = this.leafCount + leaves.length;
      if (size - this.keyedUpTo >= KEYS_FOLDED_EVERY) {
        this.statements.foldKeys.run(this.keyedUpTo);
        this.statements.setKeyedUpTo.run(String(size));
      }
    })();
    const last = leaves[leaves.length - 1];
    if (last) {
      this.leafCount = last.index + 1;
      this.lastPosition = last.position;
    }
    if (this.leafCount - this.keyedUpTo >= KEYS_FOLDED_EVERY) this.keyedUpTo = this.leafCount;
  }

  signedHead(treeSize: number, keyId: string): StoredTreeHead | undefined {
    const row = this.statements.head.get(treeSize, keyId);
    return row && { treeSize: row.tree_size, keyId: row.key_id, rootHash: row.root_hash, timestamp: row.timestamp, signature: row.signature };
  }

  saveSignedHead(head: StoredTreeHead): void {
    this.statements.insertHead.run(head.treeSize, head.keyId, head.rootHash, head.timestamp, head.signature);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function leafOf(row: LeafRow): TreeLeaf {
  return { index: row.idx, position: row.position, eventId: row.event_id, hash: row.hash };
}

/** Schema 2 to 3, in one transaction: every leaf's key into `event_keys`, sorted, and the index of `leaves.event_key` dropped. */
function migrateFromSchema2(db: Database.Database): void {
  db.transaction(() => {
    const leaves = (db.prepare('SELECT coalesce(max(idx) + 1, 0) AS n FROM leaves').get() as { n: number }).n;
    db.exec(`
      INSERT INTO event_keys (event_key, idx) SELECT event_key, idx FROM leaves ORDER BY event_key, idx;
      DROP INDEX IF EXISTS leaves_by_event_key;
    `);
    db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('keyed_upto', ?)").run(String(leaves));
    db.prepare("UPDATE meta SET value = ? WHERE key = 'schema'").run(String(SCHEMA_VERSION));
  })();
}

/** Schema 1 to 2, in one transaction: every leaf's `event_key`, then the index on it in place of the index of ids. */
function migrateFromSchema1(db: Database.Database): void {
  db.function('flagline_index_key', { deterministic: true }, (text: unknown) => indexKeyOf(String(text)));
  db.transaction(() => {
    db.exec(`
      ALTER TABLE leaves ADD COLUMN event_key INTEGER NOT NULL DEFAULT 0;
      UPDATE leaves SET event_key = flagline_index_key(event_id);
      DROP INDEX IF EXISTS leaves_by_event;
      CREATE INDEX leaves_by_event_key ON leaves (event_key);
    `);
    db.prepare("UPDATE meta SET value = '2' WHERE key = 'schema'").run();
  })();
}
