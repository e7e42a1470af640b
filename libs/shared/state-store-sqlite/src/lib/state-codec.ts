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

function fromJson(value: Json): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(fromJson);
  const map = value[MAP];
  if (map !== undefined) return new Map((map as [Json, Json][]).map(([key, entry]) => [fromJson(key), fromJson(entry)]));
  const set = value[SET];
  if (set !== undefined) return new Set((set as Json[]).map(fromJson));
  const float = value[FLOAT];
  if (typeof float === 'number') return new FloatNumber(float);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = fromJson(value[key] as Json);
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
