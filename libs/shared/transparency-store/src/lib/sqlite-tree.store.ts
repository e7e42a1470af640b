import { checkAppend, type StoredTreeHead, type SubtreeNode, type TransparencyTreeStore, type TreeLeaf } from '@flagline/transparency';
import { indexKeyOf } from '@flagline/event-sourcing';
import Database from 'better-sqlite3';

/** File name of the tree in a data directory. */
export const TRANSPARENCY_FILE_NAME = 'transparency.sqlite';

/**
 * 2: leaves are found by event id through `event_key`, a 53-bit hash of the id (`indexKeyOf`), the
 * id itself checked on read: an index of small integers takes a fraction of the pages an index of
 * the ids' text did, so inserting a leaf's random key stays in cached pages. 1 indexed `event_id`;
 * a file of schema 1 is migrated at open (the key computed for every leaf, the old index dropped).
 */
const SCHEMA_VERSION = 2;

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
 * The log's Merkle tree in SQLite: leaves (index, position, event id), the hash of every complete
 * subtree (level 0 are the leaf hashes), and the signed tree heads. An append (leaves and the nodes
 * they complete) is one transaction, so a crash leaves a whole tree of some size.
 */
export class SqliteTreeStore implements TransparencyTreeStore {
  private leafCount: number;
  private lastPosition: number | undefined;
  private readonly statements: {
    node: Database.Statement<[number, number], { hash: Buffer }>;
    leaf: Database.Statement<[number], LeafRow>;
    leaves: Database.Statement<[number, number], LeafRow>;
    byPosition: Database.Statement<[number], { idx: number }>;
    byEvent: Database.Statement<[number], { idx: number; event_id: string }>;
    insertLeaf: Database.Statement<[number, number, string, number]>;
    insertNode: Database.Statement<[number, number, Buffer]>;
    head: Database.Statement<[number, string], HeadRow>;
    insertHead: Database.Statement<[number, string, string, number, string]>;
  };

  private constructor(private readonly db: Database.Database) {
    this.statements = {
      node: db.prepare('SELECT hash FROM nodes WHERE level = ? AND idx = ?'),
      leaf: db.prepare('SELECT l.idx, l.position, l.event_id, n.hash FROM leaves l JOIN nodes n ON n.level = 0 AND n.idx = l.idx WHERE l.idx = ?'),
      leaves: db.prepare('SELECT l.idx, l.position, l.event_id, n.hash FROM leaves l JOIN nodes n ON n.level = 0 AND n.idx = l.idx WHERE l.idx >= ? ORDER BY l.idx LIMIT ?'),
      byPosition: db.prepare('SELECT idx FROM leaves WHERE position = ?'),
      byEvent: db.prepare('SELECT idx, event_id FROM leaves WHERE event_key = ?'),
      insertLeaf: db.prepare('INSERT INTO leaves (idx, position, event_id, event_key) VALUES (?, ?, ?, ?)'),
      insertNode: db.prepare('INSERT OR REPLACE INTO nodes (level, idx, hash) VALUES (?, ?, ?)'),
      head: db.prepare('SELECT tree_size, key_id, root_hash, timestamp, signature FROM heads WHERE tree_size = ? AND key_id = ?'),
      insertHead: db.prepare('INSERT OR IGNORE INTO heads (tree_size, key_id, root_hash, timestamp, signature) VALUES (?, ?, ?, ?, ?)'),
    };
    const last = db.prepare('SELECT idx, position FROM leaves ORDER BY idx DESC LIMIT 1').get() as { idx: number; position: number } | undefined;
    this.leafCount = last ? last.idx + 1 : 0;
    this.lastPosition = last?.position;
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
      `);
      const version = db.prepare("SELECT value FROM meta WHERE key = 'schema'").get() as { value: string } | undefined;
      if (version === undefined) {
        db.transaction(() => {
          db.exec(`
            CREATE TABLE leaves (idx INTEGER PRIMARY KEY, position INTEGER NOT NULL UNIQUE, event_id TEXT NOT NULL, event_key INTEGER NOT NULL);
            CREATE INDEX leaves_by_event_key ON leaves (event_key);
          `);
          db.prepare("INSERT INTO meta (key, value) VALUES ('schema', ?)").run(String(SCHEMA_VERSION));
        })();
      } else if (version.value === '1') migrateFromSchema1(db);
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

  leafIndexAtPosition(position: number): number | undefined {
    return this.statements.byPosition.get(position)?.idx;
  }

  leafIndexOfEvent(eventId: string): number | undefined {
    // Another id may share the key: the one whose id is this.
    return this.statements.byEvent.all(indexKeyOf(eventId)).find((row) => row.event_id === eventId)?.idx;
  }

  append(leaves: readonly TreeLeaf[], nodes: readonly SubtreeNode[]): void {
    checkAppend(this.leafCount, leaves, this.lastPosition);
    this.db.transaction(() => {
      for (const leaf of leaves) this.statements.insertLeaf.run(leaf.index, leaf.position, leaf.eventId, indexKeyOf(leaf.eventId));
      for (const node of nodes) this.statements.insertNode.run(node.level, node.index, node.hash);
    })();
    const last = leaves[leaves.length - 1];
    if (last) {
      this.leafCount = last.index + 1;
      this.lastPosition = last.position;
    }
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
    db.prepare("UPDATE meta SET value = ? WHERE key = 'schema'").run(String(SCHEMA_VERSION));
  })();
}
