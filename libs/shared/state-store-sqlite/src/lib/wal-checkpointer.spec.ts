import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { truncateWal, WalCheckpointer } from './wal-checkpointer';

/** A file in WAL mode whose own connection never checkpoints after a commit. */
function openWriter(path: string): Database.Database {
  const db = new Database(path, { timeout: 20 });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('wal_autocheckpoint = 0');
  db.exec('CREATE TABLE IF NOT EXISTS row (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID');
  return db;
}

/** One transaction of `count` rows at random places of the key order (a page of the WAL each, or near). */
function writeRandomRows(db: Database.Database, count: number, salt: number): void {
  const insert = db.prepare('INSERT OR REPLACE INTO row (key, value) VALUES (?, ?)');
  db.transaction(() => {
    for (let at = 0; at < count; at++) insert.run(`${Math.imul(at + 1, 2654435761 + salt) >>> 0}`.padStart(12, '0'), 'x'.repeat(200));
  })();
}

const walBytes = (path: string): number => statSync(`${path}-wal`).size;
const until = async (test: () => boolean, timeoutMs = 10_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe('WalCheckpointer', () => {
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'flagline-wal-checkpointer-'));
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it("copies each file's WAL back from its own thread, so the writer starts the WAL over instead of growing it", async () => {
    const paths = [join(directory, 'a.sqlite'), join(directory, 'b.sqlite')];
    const writers = paths.map(openWriter);
    const copied = new Map<string, number>();
    // The WAL's frames at each checkpoint, by file: one round's once the writer starts it over, all of them so far otherwise.
    const walFrames = new Map<string, number[]>();
    const checkpointer = WalCheckpointer.start(paths, {
      intervalMs: 20,
      log: (message) => {
        throw new Error(`unexpected: ${message}`);
      },
      onCheckpoint: (path, frames, done) => {
        expect(done).toBeLessThanOrEqual(frames);
        copied.set(path, (copied.get(path) ?? 0) + 1);
        walFrames.set(path, [...(walFrames.get(path) ?? []), frames]);
      },
    });
    try {
      let written = 0;
      for (let round = 0; round < 12; round++) {
        const reported = paths.map((path) => copied.get(path) ?? 0);
        for (const [index, db] of writers.entries()) writeRandomRows(db, 400, round * 2 + index);
        written += 400;
        // Each round waits for a checkpoint of what it wrote, in both files.
        await until(() => paths.every((path, index) => (copied.get(path) ?? 0) > (reported[index] as number)));
      }
      for (const [index, path] of paths.entries()) {
        const db = writers[index] as Database.Database;
        expect(db.prepare('SELECT count(*) AS n FROM row').get()).toEqual({ n: written });
        // Copied into the database file itself.
        expect(statSync(path).size).toBeGreaterThan(written * 200);
        const frames = walFrames.get(path) ?? [];
        const round = Math.max(...frames.slice(-3));
        const everything = frames.reduce((sum, at) => sum + at, 0);
        // Started over each time: no checkpoint saw much more than a round's frames, and the file holds about one round's.
        expect(Math.max(...frames)).toBeLessThan(everything / 4);
        expect(walBytes(path)).toBeLessThanOrEqual(32 + 2 * round * (4096 + 24));
      }
    } finally {
      await checkpointer.close();
      for (const db of writers) db.close();
    }
  });

  it('without it, the same writes grow the WAL (what the test above would see if nothing checkpointed)', () => {
    const path = join(directory, 'a.sqlite');
    const db = openWriter(path);
    try {
      const rounds: number[] = [];
      for (let round = 0; round < 12; round++) {
        const before = walBytes(path);
        writeRandomRows(db, 400, round * 2);
        rounds.push(walBytes(path) - before);
      }
      expect(walBytes(path)).toBeGreaterThan(3 * Math.max(...rounds.slice(-3)));
    } finally {
      db.close();
    }
  });

  it('starts a thread that died again, which goes on checkpointing', async () => {
    const path = join(directory, 'a.sqlite');
    const db = openWriter(path);
    const logged: string[] = [];
    const workers: { terminate: () => Promise<number> }[] = [];
    let copies = 0;
    const checkpointer = WalCheckpointer.start([path], { intervalMs: 20, log: (message) => logged.push(message), onCheckpoint: () => copies++, onWorker: (worker) => workers.push(worker) });
    try {
      await (workers[0] as { terminate: () => Promise<number> }).terminate();
      await until(() => workers.length === 2);
      expect(logged).toEqual([expect.stringContaining('the WAL checkpointer thread exited')]);
      const before = copies;
      writeRandomRows(db, 100, 1);
      await until(() => copies > before);
    } finally {
      await checkpointer.close();
      db.close();
    }
  });

  it('closes at once when its thread is dead and not started again yet', async () => {
    const path = join(directory, 'a.sqlite');
    openWriter(path).close();
    const workers: { terminate: () => Promise<number> }[] = [];
    const checkpointer = WalCheckpointer.start([path], { intervalMs: 20, log: () => undefined, onWorker: (worker) => workers.push(worker) });
    await (workers[0] as { terminate: () => Promise<number> }).terminate();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await checkpointer.close();
    // Closed: the thread is not started again after its backoff.
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(workers).toHaveLength(1);
  });
});

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
      let waits = 0;
      expect(() => truncateWal(db, { attempts: 3, sleep: () => waits++ })).toThrow(`The WAL of ${path} could not be truncated`);
      expect(waits).toBe(2);
      expect(walBytes(path)).toBeGreaterThan(0);
    } finally {
      reader.exec('COMMIT');
      reader.close();
      db.close();
    }
  });
});
