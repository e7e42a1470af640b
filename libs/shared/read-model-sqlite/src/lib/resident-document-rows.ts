import type Database from 'better-sqlite3';
import { frozenJson } from '@flagline/read-model';

/**
 * How a resident document (an environment, a project, an organisation: few, large, kept decoded
 * in memory) is laid out in the file: at the grain of what changes. Each top-level array (an
 * environment's features with their states, its segments, its identity overrides; a project's
 * features and segments) is cut into parts of `PART_ELEMENTS` elements, one row each in
 * `document_parts`, keyed by the document's key, the field and the part's index; the rest of
 * the document (its head) is one row in `documents`, where each such array is written as
 * `{"\u0000parts": <its length>}`.
 *
 * Documents are deep-frozen and a change shares every element it leaves alone, so a flush
 * compares each part with the document as last persisted, element by element by reference, and
 * writes only the parts that differ: a toggle in an environment of 3,000 features writes one
 * part of 64 features and the head, not 3,000 features. The rows are a function of the document
 * alone (parts cut at fixed positions), so a file written live across any number of flushes holds
 * the same bytes as a rebuild. An element inserted before the end moves every element after it
 * and rewrites their parts; the projections append features, segments and states in id order.
 */
export const PART_ELEMENTS = 64;
const PARTS = '\u0000parts';

export const RESIDENT_PARTS_SCHEMA = `CREATE TABLE document_parts (key TEXT NOT NULL, field TEXT NOT NULL, part INTEGER NOT NULL, value TEXT NOT NULL, PRIMARY KEY (key, field, part)) WITHOUT ROWID;`;

/** The file's resident documents do not fit together (a part missing, extra or unreadable): it cannot be served. */
export class DamagedReadModelFile extends Error {
  constructor(detail: string) {
    super(`its resident documents are damaged: ${detail}`);
    this.name = 'DamagedReadModelFile';
  }
}

type Document = Readonly<Record<string, unknown>>;
/** An object whose top-level arrays are written in parts (every other value is written whole, as its head). */
const isDocument = (value: unknown): value is Document => typeof value === 'object' && value !== null && !Array.isArray(value);
const NONE: readonly unknown[] = [];

const partsOf = (length: number): number => Math.ceil(length / PART_ELEMENTS);

/** Whether part `part` of `next` holds the same elements (by reference) as that of `previous`. */
function samePart(next: readonly unknown[], previous: readonly unknown[], part: number): boolean {
  const from = part * PART_ELEMENTS;
  const to = Math.min(next.length, from + PART_ELEMENTS);
  if (to !== Math.min(previous.length, from + PART_ELEMENTS)) return false;
  for (let index = from; index < to; index++) if (next[index] !== previous[index]) return false;
  return true;
}

function isPartsMarker(value: unknown): value is { readonly [PARTS]: number } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === PARTS && Number.isSafeInteger((value as Record<string, unknown>)[PARTS]);
}

function parsed(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new DamagedReadModelFile(`${what} is not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
}

/** Writes and reads resident documents as heads and parts, over one open read-model file. */
export class ResidentDocumentRows {
  private readonly statements: {
    readonly putHead: Database.Statement<[string, string]>;
    readonly deleteHead: Database.Statement<[string]>;
    readonly putPart: Database.Statement<[string, string, number, string]>;
    readonly deletePart: Database.Statement<[string, string, number]>;
    readonly deleteField: Database.Statement<[string, string]>;
    readonly deleteParts: Database.Statement<[string]>;
  };

  constructor(private readonly db: Database.Database) {
    this.statements = {
      putHead: db.prepare('INSERT INTO documents (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
      deleteHead: db.prepare('DELETE FROM documents WHERE key = ?'),
      putPart: db.prepare('INSERT INTO document_parts (key, field, part, value) VALUES (?, ?, ?, ?) ON CONFLICT (key, field, part) DO UPDATE SET value = excluded.value'),
      deletePart: db.prepare('DELETE FROM document_parts WHERE key = ? AND field = ? AND part = ?'),
      deleteField: db.prepare('DELETE FROM document_parts WHERE key = ? AND field = ?'),
      deleteParts: db.prepare('DELETE FROM document_parts WHERE key = ?'),
    };
  }

  /**
   * Writes `document` under `key` given `previous`, the document as the file holds it (undefined
   * when it holds none): the head, and the parts that differ. Call it inside a transaction.
   */
  write(key: string, document: unknown, previous: unknown): void {
    const before = isDocument(previous) ? previous : undefined;
    if (!isDocument(document)) {
      if (before) this.statements.deleteParts.run(key);
      this.statements.putHead.run(key, frozenJson(document));
      return;
    }
    const head: Record<string, unknown> = {};
    for (const field of Object.keys(document)) {
      const value = document[field];
      if (!Array.isArray(value)) {
        head[field] = value;
        continue;
      }
      const elements = value as readonly unknown[];
      head[field] = { [PARTS]: elements.length };
      const was = before?.[field];
      const old = Array.isArray(was) ? (was as readonly unknown[]) : NONE;
      const count = partsOf(elements.length);
      for (let part = 0; part < count; part++) {
        if (samePart(elements, old, part)) continue;
        this.statements.putPart.run(key, field, part, frozenJson(elements.slice(part * PART_ELEMENTS, (part + 1) * PART_ELEMENTS)));
      }
      for (let part = count; part < partsOf(old.length); part++) this.statements.deletePart.run(key, field, part);
    }
    if (before) {
      for (const field of Object.keys(before)) {
        if (Array.isArray(before[field]) && !Array.isArray(document[field])) this.statements.deleteField.run(key, field);
      }
    }
    this.statements.putHead.run(key, frozenJson(head));
  }

  /** Removes the document's head and parts. Call it inside a transaction. */
  delete(key: string): void {
    this.statements.deleteHead.run(key);
    this.statements.deleteParts.run(key);
  }

  /**
   * Every resident document the file holds, put together from its head and parts, in key order.
   * `heads` are the `documents` rows of resident keys. Throws if a part is missing or extra.
   */
  *read(heads: Iterable<{ key: string; value: string }>): Generator<[string, unknown]> {
    const parts = new Map<string, string[]>();
    for (const row of this.db.prepare('SELECT key, field, part, value FROM document_parts ORDER BY key, field, part').iterate() as IterableIterator<{
      key: string;
      field: string;
      part: number;
      value: string;
    }>) {
      const id = `${row.key}\u0000${row.field}`;
      const list = parts.get(id) ?? [];
      if (row.part !== list.length) throw new DamagedReadModelFile(`part ${row.part} of ${row.key} ${row.field} follows ${list.length} parts`);
      list.push(row.value);
      parts.set(id, list);
    }
    for (const { key, value } of heads) {
      const document = parsed(value, key);
      if (!isDocument(document)) {
        yield [key, document];
        continue;
      }
      const fields = document as Record<string, unknown>;
      for (const field of Object.keys(fields)) {
        const marker = fields[field];
        if (!isPartsMarker(marker)) continue;
        const id = `${key}\u0000${field}`;
        const texts = parts.get(id) ?? [];
        parts.delete(id);
        // Each part is a non-empty array's text: their insides joined are the whole array's.
        const elements = parsed(`[${texts.map((text) => text.slice(1, -1)).join(',')}]`, `${key} ${field}`);
        if (!Array.isArray(elements) || elements.length !== marker[PARTS]) throw new DamagedReadModelFile(`${key} ${field} holds ${Array.isArray(elements) ? elements.length : 'no array of'} elements in its parts, its head says ${marker[PARTS]}`);
        fields[field] = elements;
      }
      yield [key, document];
    }
    const [orphan] = parts.keys();
    if (orphan !== undefined) throw new DamagedReadModelFile(`parts of ${orphan.replace('\u0000', ' ')} belong to no document`);
  }
}
