import { FloatNumber } from '@flagline/python-compat';

/**
 * Folded states as canonical JSON text: plain objects, arrays, strings, numbers, booleans and null
 * as JSON has them, Maps and Sets as tagged objects holding their entries in insertion order. The
 * same value always gives the same text (a rebuilt file can be compared byte for byte with the
 * live one), whichever Node version or hidden-class history produced it, which V8's own
 * serialisation does not promise (an integral number may be written as an int or a double).
 * A persistent map (any object of a class of its own that reads as a `ReadonlyMap`: `get`, `has`,
 * `entries` and a numeric `size`) is written as the `Map` of its entries, and read back as one.
 * A `FloatNumber` (an integral number that is a float, like a trait written `5.0`) is tagged too,
 * so it stays a float. `undefined` object properties are left out, as JSON does.
 */
const MAP = '\u0000map';
const SET = '\u0000set';
const FLOAT = '\u0000float';
const PARTS = '\u0000parts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isPlainObject(value: object): boolean {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** A `Map`, or a map of another class read through the `ReadonlyMap` interface (a persistent map). */
function isMap(value: object): value is ReadonlyMap<unknown, unknown> {
  if (value instanceof Map) return true;
  if (isPlainObject(value) || Array.isArray(value)) return false;
  const candidate = value as Partial<ReadonlyMap<unknown, unknown>>;
  return typeof candidate.get === 'function' && typeof candidate.has === 'function' && typeof candidate.entries === 'function' && typeof candidate.size === 'number';
}

function refuse(kind: string): never {
  throw new TypeError(`Cannot store a ${kind} in a folded state`);
}

/**
 * What `JSON.stringify` is given for a value: Maps, Sets and float numbers converted to their
 * tagged objects, objects of other classes copied to plain ones (their own fields, never their
 * `toJSON`), and every plain object or array holding none of these (most of a folded state) the
 * same object, not a copy: JSON writes it as it is, with the same text a copy would give
 * (`undefined` properties left out either way), so nothing is allocated for it.
 */
function toJson(value: unknown): unknown {
  if (value === null || typeof value !== 'object') {
    const kind = typeof value;
    if (kind === 'bigint' || kind === 'function' || kind === 'symbol') refuse(kind);
    return value;
  }
  if (Array.isArray(value)) {
    let copy: unknown[] | null = null;
    for (let index = 0; index < value.length; index++) {
      const entry: unknown = value[index];
      const converted = toJson(entry);
      if (copy === null && converted !== entry) copy = value.slice(0, index);
      copy?.push(converted);
    }
    return copy ?? value;
  }
  if (value instanceof Number) return { [FLOAT]: value.valueOf() };
  if (isMap(value)) {
    const entries: unknown[] = [];
    // forEach rather than an iterator: a persistent map walks its trie several times faster this way.
    value.forEach((entry, key) => entries.push([toJson(key), toJson(entry)]));
    return { [MAP]: entries };
  }
  if (value instanceof Set) {
    const entries: unknown[] = [];
    for (const entry of value as Set<unknown>) entries.push(toJson(entry));
    return { [SET]: entries };
  }
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object);
  let copy: Record<string, unknown> | null = isPlainObject(object) ? null : {};
  for (let index = 0; index < keys.length; index++) {
    const key = keys[index] as string;
    const entry = object[key];
    const converted = toJson(entry);
    if (copy === null && converted !== entry) {
      copy = {};
      for (let before = 0; before < index; before++) {
        const kept = keys[before] as string;
        copy[kept] = object[kept];
      }
    }
    if (copy !== null) copy[key] = converted;
  }
  return copy ?? value;
}

/** @param parts - what a reference to a map written in parts (see `encodeStateHead`) reads as; none outside heads. */
function fromJson(value: Json, parts?: (reference: Json) => unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((entry) => fromJson(entry, parts));
  const map = value[MAP];
  if (map !== undefined) return new Map((map as [Json, Json][]).map(([key, entry]) => [fromJson(key), fromJson(entry, parts)]));
  const set = value[SET];
  if (set !== undefined) return new Set((set as Json[]).map((entry) => fromJson(entry)));
  const float = value[FLOAT];
  if (typeof float === 'number') return new FloatNumber(float);
  const reference = value[PARTS];
  if (reference !== undefined && parts) return parts(reference);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = fromJson(value[key] as Json, parts);
  return out;
}

/**
 * The text of the entries' values of Maps already written, by object: folded states are
 * immutable (a change makes new objects and shares the rest), so a project with thousands of
 * features is written again at the cost of what changed, not of its size. Only plain objects are
 * remembered, and frozen maps of other classes (a persistent map, which no change reaches: an
 * unchanged one, a project's features after a toggle, is written from memory whole): Sets, Maps
 * and arrays may be filled in place while they are built.
 */
const written = new WeakMap<object, string>();

/** `JSON.stringify(toJson(value))`, built directly, remembering the text of Map values. */
function text(value: unknown, remember: boolean): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'string':
    case 'number':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      break;
    case 'bigint':
    case 'function':
    case 'symbol':
    case 'undefined':
      throw new TypeError(`Cannot store a ${typeof value} in a folded state`);
  }
  const object = value;
  const memo = (remember && isPlainObject(object)) || (Object.isFrozen(object) && !(object instanceof Map) && isMap(object));
  if (memo) {
    const known = written.get(object);
    if (known !== undefined) return known;
  }
  let out: string;
  if (Array.isArray(object)) out = `[${object.map((entry: unknown) => text(entry, false)).join(',')}]`;
  else if (object instanceof Number) out = `{${JSON.stringify(FLOAT)}:${JSON.stringify(object.valueOf())}}`;
  else if (isMap(object)) {
    const entries: string[] = [];
    // forEach rather than an iterator: a persistent map walks its trie several times faster this way.
    object.forEach((entry, key) => entries.push(`[${text(key, false)},${text(entry, true)}]`));
    out = `{${JSON.stringify(MAP)}:[${entries.join(',')}]}`;
  } else if (object instanceof Set) out = `{${JSON.stringify(SET)}:[${[...(object as Set<unknown>)].map((entry) => text(entry, false)).join(',')}]}`;
  else {
    const fields: string[] = [];
    for (const [key, entry] of Object.entries(object)) if (entry !== undefined) fields.push(`${JSON.stringify(key)}:${text(entry, false)}`);
    out = `{${fields.join(',')}}`;
  }
  if (memo) written.set(object, out);
  return out;
}

export const encodeState = (value: unknown): string => text(value, false);
/** The encoding without remembered parts, as it was first written: the reference the fast one is checked against. */
export const encodeStateByValue = (value: unknown): string => JSON.stringify(toJson(value));
export const decodeState = (text: string): unknown => fromJson(JSON.parse(text) as Json);

/**
 * A state at the grain of change: maps of more than `PART_ENTRIES` entries (a project's features,
 * each environment's feature states, the index of entities to projects) reached from the root
 * through objects, arrays and smaller maps are written apart, in parts of `PART_ENTRIES` entries
 * in their order, and the rest of the state (its head) refers to each as
 * `{"\u0000parts":[<path>,<entries>]}`; a map inside a part is written whole. A writer keeping
 * what it wrote last rewrites only the parts whose entries changed. Heads and parts depend on
 * the state alone, so a file written across any number of flushes equals a rebuild's.
 */
export const PART_ENTRIES = 64;

/** A map a head refers to: where it is in the state (`.field`, `[key]`, `/index` from the root), and the map. */
export interface StatePartsMap {
  readonly path: string;
  readonly map: ReadonlyMap<unknown, unknown>;
}

/** Head texts holding no reference to parts (a reference names a path, which the object does not know), by object. */
const headsWritten = new WeakMap<object, string>();

function headText(value: unknown, path: string, remember: boolean, maps: StatePartsMap[]): string {
  if (value === null || typeof value !== 'object' || value instanceof Number || value instanceof Set) return text(value, false);
  const object = value;
  const memo = (remember && isPlainObject(object)) || (Object.isFrozen(object) && !(object instanceof Map) && isMap(object));
  if (memo) {
    const known = headsWritten.get(object);
    if (known !== undefined) return known;
  }
  const referencesBefore = maps.length;
  let out: string;
  if (Array.isArray(object)) out = `[${object.map((entry: unknown, index) => headText(entry, `${path}/${index}`, false, maps)).join(',')}]`;
  else if (isMap(object)) {
    if (object.size > PART_ENTRIES) {
      maps.push({ path, map: object });
      return `{${JSON.stringify(PARTS)}:[${JSON.stringify(path)},${object.size}]}`;
    }
    const entries: string[] = [];
    object.forEach((entry, key) => {
      const keyText = text(key, false);
      entries.push(`[${keyText},${headText(entry, `${path}[${keyText}]`, true, maps)}]`);
    });
    out = `{${JSON.stringify(MAP)}:[${entries.join(',')}]}`;
  } else {
    const fields: string[] = [];
    for (const [key, entry] of Object.entries(object)) if (entry !== undefined) fields.push(`${JSON.stringify(key)}:${headText(entry, `${path}.${key}`, false, maps)}`);
    out = `{${fields.join(',')}}`;
  }
  if (memo && maps.length === referencesBefore) headsWritten.set(object, out);
  return out;
}

/** The head of a state (`encodeState`'s text with its big maps referred to); those maps are pushed to `maps`. */
export const encodeStateHead = (value: unknown, maps: StatePartsMap[]): string => headText(value, '', false, maps);

/** The text of one part: the entries `from` to `to` (excluded) of a map, given as its keys and values in order. */
export function encodeStatePart(keys: readonly unknown[], values: readonly unknown[], from: number, to: number): string {
  const entries: string[] = [];
  for (let index = from; index < to; index++) entries.push(`[${text(keys[index], false)},${text(values[index], true)}]`);
  return `[${entries.join(',')}]`;
}

/** A head and its parts that do not fit together: the stored state cannot be read. */
export class DamagedState extends Error {
  constructor(detail: string) {
    super(`stored state damaged: ${detail}`);
    this.name = 'DamagedState';
  }
}

/**
 * A state from its head and parts. `partsOf(path)` gives the texts of a map's parts in order;
 * `onMap` is told each map read from parts (what a writer compares the next state with).
 */
export function decodeStateHead(head: string, partsOf: (path: string) => readonly string[], onMap: (path: string, map: ReadonlyMap<unknown, unknown>) => void): unknown {
  return fromJson(JSON.parse(head) as Json, (reference) => {
    const [path, size] = Array.isArray(reference) ? reference : [];
    if (typeof path !== 'string' || typeof size !== 'number') throw new DamagedState(`a reference to parts reads ${JSON.stringify(reference)}`);
    // Each part is a non-empty array's text: their insides joined are the whole map's entries.
    const entries = JSON.parse(`[${partsOf(path).map((part) => part.slice(1, -1)).join(',')}]`) as [Json, Json][];
    const map = new Map(entries.map(([key, entry]) => [fromJson(key), fromJson(entry)]));
    if (map.size !== size) throw new DamagedState(`the map at ${path || 'the root'} has ${map.size} entries in its parts, its head says ${size}`);
    onMap(path, map);
    return map;
  });
}
