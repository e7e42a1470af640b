import Database from 'better-sqlite3';
import { ChunkedInsert } from './chunked-insert';

describe('ChunkedInsert', () => {
  let db: Database.Database;
  beforeEach(() => {
    db = new Database(':memory:');
    db.exec('CREATE TABLE row (at INTEGER PRIMARY KEY, name TEXT NOT NULL, note TEXT)');
  });
  afterEach(() => db.close());

  const rows = (): { at: number; name: string; note: string | null }[] => db.prepare<[], { at: number; name: string; note: string | null }>('SELECT at, name, note FROM row ORDER BY rowid').all();

  it.each([0, 1, 7, 63, 64, 65, 100, 128, 200])('writes %i rows, every one once and in the order added', (count) => {
    const insert = new ChunkedInsert(db, 'INSERT INTO row (at, name, note)', 3, 64);
    const statements: string[] = [];
    const prepare = db.prepare.bind(db);
    jest.spyOn(db, 'prepare').mockImplementation((source: string) => {
      statements.push(source);
      return prepare(source);
    });
    for (let at = 0; at < count; at++) insert.add(at, `n${at}`, at % 3 === 0 ? null : `note ${at}`);
    insert.flush();
    // One statement of 64 rows for the full chunks, then one per set bit of the rest (32, 16, ... rows).
    const ones = (count % 64).toString(2).split('').filter((bit) => bit === '1').length;
    expect(statements.length).toBe((count >= 64 ? 1 : 0) + ones);
    expect(rows()).toEqual(Array.from({ length: count }, (_, at) => ({ at, name: `n${at}`, note: at % 3 === 0 ? null : `note ${at}` })));
  });

  it('drops what was discarded, and writes nothing twice after a failed statement', () => {
    const insert = new ChunkedInsert(db, 'INSERT INTO row (at, name, note)', 3, 4);
    insert.add(1, 'a', null);
    insert.add(2, 'b', null);
    insert.discard();
    insert.add(3, 'c', null);
    insert.flush();
    expect(rows().map(({ at }) => at)).toEqual([3]);
    // A full chunk whose statement fails (a duplicate key) is not sent again by the next one.
    for (const at of [4, 5, 3, 6]) {
      if (at === 6) expect(() => insert.add(at, 'x', null)).toThrow(/UNIQUE/);
      else insert.add(at, 'x', null);
    }
    insert.add(7, 'y', null);
    insert.flush();
    expect(rows().map(({ at }) => at)).toEqual([3, 7]);
  });

  it('puts the conflict clause after the rows (an upsert), the last row of a key winning', () => {
    const upsert = new ChunkedInsert(db, 'INSERT INTO row (at, name, note)', 3, 2, 'ON CONFLICT (at) DO UPDATE SET name = excluded.name');
    upsert.add(1, 'first', null);
    upsert.flush();
    upsert.add(1, 'second', null);
    upsert.add(2, 'other', null);
    upsert.add(2, 'last', null);
    upsert.flush();
    expect(rows().map(({ at, name }) => [at, name])).toEqual([
      [1, 'second'],
      [2, 'last'],
    ]);
  });
});
