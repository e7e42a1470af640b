import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareFiles } from './rebuild-parts';

type Identity = readonly [idKey: number, id: string, state: string];

describe('compareFiles (rebuild --verify)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'flagline-compare-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A file shaped like the catalog's: a rowid table with an index, and a WITHOUT ROWID one. */
  const file = (name: string, identities: readonly Identity[], identifiers: readonly string[] = ['ada', 'grace']): string => {
    const path = join(dir, name);
    const db = new Database(path);
    db.exec('CREATE TABLE identity (id_key INTEGER NOT NULL, id TEXT NOT NULL, state TEXT NOT NULL); CREATE INDEX identity_by_key ON identity (id_key);');
    db.exec('CREATE TABLE identifier (identifier TEXT PRIMARY KEY, blob BLOB) WITHOUT ROWID;');
    const insert = db.prepare('INSERT INTO identity (id_key, id, state) VALUES (?, ?, ?)');
    for (const row of identities) insert.run(...row);
    for (const identifier of identifiers) db.prepare('INSERT INTO identifier VALUES (?, ?)').run(identifier, Buffer.from(identifier));
    db.close();
    return path;
  };
  const rows: Identity[] = Array.from({ length: 50 }, (_, index) => [(index * 7919) % 101, `id-${index}`, `{"n":${index}}`]);

  it('finds files with the same rows equal, whether or not their rows were written in the same order', () => {
    expect(compareFiles(file('live', rows), file('same', rows))).toBeNull();
    expect(compareFiles(file('live2', rows), file('reversed', [...rows].reverse()))).toBeNull();
  });

  it('names the first row that differs, written in the same order or not', () => {
    const changed = rows.map((row, index): Identity => (index === 30 ? [row[0], row[1], '{"n":-1}'] : row));
    expect(compareFiles(file('live', rows), file('changed', changed))).toEqual({ table: 'identity', key: String(rows[30]?.[0]), detail: 'state differs' });
    expect(compareFiles(file('live2', rows), file('changed-reversed', [...changed].reverse()))).toEqual({ table: 'identity', key: String(rows[30]?.[0]), detail: 'state differs' });
    const missing = rows.filter((_, index) => index !== 10);
    expect(compareFiles(file('live3', rows), file('missing', missing))).toEqual({ table: 'identity', key: String(rows[10]?.[0]), detail: 'only in the live file' });
    expect(compareFiles(file('live4', rows), file('identifiers', rows, ['ada', 'grace', 'hopper']))).toEqual({ table: 'identifier', key: 'hopper', detail: 'only in the rebuilt file' });
  });
});
