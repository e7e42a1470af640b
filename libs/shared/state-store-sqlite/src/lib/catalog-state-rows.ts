import type Database from 'better-sqlite3';
import { DamagedState, decodeStateHead, encodeStateHead, encodeStatePart, PART_ENTRIES, type StatePartsMap } from './state-codec';

export const STATE_PARTS_SCHEMA = 'CREATE TABLE state_part (key TEXT NOT NULL, path TEXT NOT NULL, part INTEGER NOT NULL, value TEXT NOT NULL, PRIMARY KEY (key, path, part)) WITHOUT ROWID;';

/** A map as last written: the map itself and its entries in order. */
interface WrittenMap {
  readonly map: ReadonlyMap<unknown, unknown>;
  readonly keys: readonly unknown[];
  readonly values: readonly unknown[];
}

const partsOf = (entries: number): number => Math.ceil(entries / PART_ENTRIES);

/** A frozen map of a class of its own (a persistent map): the same object holds the same entries. */
const isPersistent = (map: ReadonlyMap<unknown, unknown>): boolean => !(map instanceof Map) && Object.isFrozen(map);

/**
 * An entry value that cannot have changed while it stayed the same object: a primitive, a plain
 * object (folded states replace what they change, and the codec remembers their text too) or a
 * frozen object. Maps, Sets and arrays not frozen may be filled in place (the catalog's indexes).
 */
const settled = (value: unknown): boolean => {
  if (typeof value !== 'object' || value === null) return true;
  if (Object.isFrozen(value)) return true;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
};

/** Whether part `part` holds the same entries, by reference, as when it was written. */
function samePart(keys: readonly unknown[], values: readonly unknown[], before: WrittenMap, part: number): boolean {
  const from = part * PART_ENTRIES;
  const to = Math.min(keys.length, from + PART_ENTRIES);
  if (to !== Math.min(before.keys.length, from + PART_ENTRIES)) return false;
  for (let index = from; index < to; index++) {
    const value = values[index];
    if (keys[index] !== before.keys[index] || value !== before.values[index] || !settled(value)) return false;
  }
  return true;
}

/**
 * The catalog's snapshots (users, organisations, projects, indexes) in the file, at the grain of
 * change: each state's head in `state`, its big maps in parts in `state_part` (see
 * `encodeStateHead`). A write compares each big map with the one written last, entry by entry by
 * reference, and writes only the parts that differ: a toggle in a project of 3,000 features
 * writes its head and one part of one environment's feature states, not the whole project.
 */
export class CatalogStateRows {
  /** What the file holds of each state's big maps, by state key and path. */
  private written = new Map<string, ReadonlyMap<string, WrittenMap>>();
  private readonly statements: {
    readonly setHead: Database.Statement<[string, string]>;
    readonly setPart: Database.Statement<[string, string, number, string]>;
    readonly deletePart: Database.Statement<[string, string, number]>;
    readonly deletePath: Database.Statement<[string, string]>;
  };

  constructor(private readonly db: Database.Database) {
    this.statements = {
      setHead: db.prepare('INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)'),
      setPart: db.prepare('INSERT OR REPLACE INTO state_part (key, path, part, value) VALUES (?, ?, ?, ?)'),
      deletePart: db.prepare('DELETE FROM state_part WHERE key = ? AND path = ? AND part = ?'),
      deletePath: db.prepare('DELETE FROM state_part WHERE key = ? AND path = ?'),
    };
  }

  /**
   * Writes a state's head and the parts that changed; call it inside the batch's transaction, and
   * the returned step once that transaction has committed (until then the file holds the old ones).
   */
  write(key: string, state: unknown): () => void {
    const maps: StatePartsMap[] = [];
    this.statements.setHead.run(key, encodeStateHead(state, maps));
    const before = this.written.get(key);
    const after = new Map<string, WrittenMap>();
    for (const { path, map } of maps) {
      const old = before?.get(path);
      if (old && old.map === map && isPersistent(map)) {
        after.set(path, old);
        continue;
      }
      const keys: unknown[] = [];
      const values: unknown[] = [];
      map.forEach((value, mapKey) => {
        keys.push(mapKey);
        values.push(value);
      });
      const count = partsOf(keys.length);
      for (let part = 0; part < count; part++) {
        if (old && samePart(keys, values, old, part)) continue;
        this.statements.setPart.run(key, path, part, encodeStatePart(keys, values, part * PART_ENTRIES, Math.min(keys.length, (part + 1) * PART_ENTRIES)));
      }
      for (let part = count; part < partsOf(old?.keys.length ?? 0); part++) this.statements.deletePart.run(key, path, part);
      after.set(path, { map, keys, values });
    }
    if (before) for (const path of before.keys()) if (!after.has(path)) this.statements.deletePath.run(key, path);
    return () => {
      this.written.set(key, after);
    };
  }

  /** Every state the file holds, decoded (and remembered as written); throws `DamagedState` where heads and parts do not fit. */
  read(): [string, unknown][] {
    const parts = new Map<string, string[]>();
    const rows = this.db.prepare('SELECT key, path, part, value FROM state_part ORDER BY key, path, part').all() as { key: string; path: string; part: number; value: string }[];
    for (const row of rows) {
      const id = `${row.key}\u0000${row.path}`;
      const list = parts.get(id) ?? [];
      list.push(row.value);
      parts.set(id, list);
    }
    const heads = this.db.prepare('SELECT key, value FROM state').all() as { key: string; value: string }[];
    const written = new Map<string, ReadonlyMap<string, WrittenMap>>();
    const states = heads.map(({ key, value }): [string, unknown] => {
      const maps = new Map<string, WrittenMap>();
      const state = decodeStateHead(
        value,
        (path) => {
          const id = `${key}\u0000${path}`;
          const texts = parts.get(id) ?? [];
          parts.delete(id);
          return texts;
        },
        (path, map) => maps.set(path, { map, keys: [...map.keys()], values: [...map.values()] }),
      );
      written.set(key, maps);
      return [key, state];
    });
    const [orphan] = parts.keys();
    if (orphan !== undefined) throw new DamagedState(`parts of ${orphan.replace('\u0000', ' at ')} belong to no state`);
    this.written = written;
    return states;
  }

  /** The file was emptied. */
  forget(): void {
    this.written = new Map();
  }
}
