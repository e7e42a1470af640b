import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { truncateWal } from './truncate-wal';

/** A file in WAL mode whose own connection never checkpoints after a commit. */
function openWriter(path: string): Database.Database {
  const db = new Database(path, { timeout: 20 });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('wal_autocheckpoint = 0');
  db.exec('CREATE TABLE IF NOT EXISTS row (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID');
  return db;
}

/** One transaction of `count` rows at random places of the key order. */
function writeRandomRows(db: Database.Database, count: number, salt: number): void {
  const insert = db.prepare('INSERT OR REPLACE INTO row (key, value) VALUES (?, ?)');
  db.transaction(() => {
    for (let at = 0; at < count; at++) insert.run(`${Math.imul(at + 1, 2654435761 + salt) >>> 0}`.padStart(12, '0'), 'x'.repeat(200));
  })();
}

const walBytes = (path: string): number => statSync(`${path}-wal`).size;

describe('truncateWal', () => {
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'flagline-truncate-wal-'));
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('tries again while another connection keeps the WAL busy, then truncates it to nothing', () => {
    const path = join(directory, 'a.sqlite');
    const db = openWriter(path);
    const reader = new Database(path);
    try {
      writeRandomRows(db, 50, 1);
      // A read transaction that uses the WAL: TRUNCATE answers busy while it lasts.
      reader.exec('BEGIN');
      reader.prepare('SELECT count(*) FROM row').get();
      writeRandomRows(db, 50, 2);
      const waits: number[] = [];
      truncateWal(db, {
        waitMs: 3,
        sleep: (ms) => {
          waits.push(ms);
          if (waits.length === 2) reader.exec('COMMIT');
        },
      });
      expect(waits).toEqual([3, 3]);
      expect(walBytes(path)).toBe(0);
    } finally {
      reader.close();
      db.close();
    }
  });

  it('throws, naming the file, when the WAL stays busy through every attempt', () => {
    const path = join(directory, 'a.sqlite');
    const db = openWriter(path);
    const reader = new Database(path);
    try {
      writeRandomRows(db, 50, 1);
      reader.exec('BEGIN');
      reader.prepare('SELECT count(*) FROM row').get();
      writeRandomRows(db, 50, 2);
      // A connection whose busy timeout is long: the bound is the call's, not attempts times it.
      db.pragma('busy_timeout = 5000');
      let clock = 0;
      let waits = 0;
      const started = performance.now();
      expect(() =>
        truncateWal(db, {
          withinMs: 12,
          waitMs: 4,
          now: () => clock,
          sleep: (ms) => {
            waits++;
            clock += ms;
          },
        }),
      ).toThrow(`The WAL of ${path} could not be truncated: another connection kept it busy for 12 ms`);
      expect(waits).toBe(3);
      expect(performance.now() - started).toBeLessThan(1000);
      expect(walBytes(path)).toBeGreaterThan(0);
      // The connection's own busy timeout is put back.
      expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    } finally {
      reader.exec('COMMIT');
      reader.close();
      db.close();
    }
  });
});
