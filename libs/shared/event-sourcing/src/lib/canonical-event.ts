import type { RecordedEvent } from './event';

/**
 * The fields of a stored event that its canonical bytes cover: everything the log keeps for it
 * except its global position, which is its place in the log (a leaf's index in the log's Merkle
 * tree) and not part of the event. In EventStoreDB positions are not dense, so they could not be
 * recomputed from an export anyway.
 */
export interface CanonicalEventFields {
  readonly id: string;
  readonly type: string;
  readonly streamName: string;
  readonly streamRevision: number;
  readonly data: unknown;
  readonly metadata: unknown;
  readonly recordedAt: string;
}

/** The fields `canonicalEventBytes` covers, taken from a recorded event (or an exported line). */
export function canonicalEventFields(event: RecordedEvent | CanonicalEventFields): CanonicalEventFields {
  const { id, type, streamName, streamRevision, data, metadata, recordedAt } = event;
  return { id, type, streamName, streamRevision, data, metadata, recordedAt };
}

/**
 * The canonical bytes of an event as stored (never as upcast: an upcaster changes with the
 * software, the stored event does not): RFC 8785 JSON Canonicalization Scheme over its fields,
 * in UTF-8. Anyone holding an export can compute them again with any JCS implementation; they are
 * what the log's Merkle tree hashes.
 */
export function canonicalEventBytes(event: RecordedEvent | CanonicalEventFields): Buffer {
  try {
    return Buffer.from(canonicalJson(canonicalEventFields(event)), 'utf8');
  } catch (error) {
    throw new TypeError(`Event ${event.id} has no canonical form: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * RFC 8785 (JCS) text of JSON data: strings, finite numbers, booleans, null, arrays and objects.
 * JCS is ECMAScript's `JSON.stringify` serialisation of strings and numbers with every object's
 * keys sorted by UTF-16 code units (`Array.prototype.sort`'s default order), and no whitespace;
 * written here in one recursive pass, it answers what the `canonicalize` package answers (a spec
 * compares them byte for byte over generated values) in a fraction of its time, which matters on
 * the log's Merkle tree follower (every event) and the verifier. As `canonicalize` does, object
 * members whose value is `undefined` are left out and such array items are `null`; `toJSON` is
 * honoured. NaN, infinities, bigints, functions and symbols have no JSON form and throw.
 */
export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return quoted(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`${value} is not allowed in JSON`);
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value === null) return 'null';
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return canonicalJson((value as { toJSON: () => unknown }).toJSON());
      return Array.isArray(value) ? canonicalArray(value) : canonicalObject(value as Record<string, unknown>);
    case 'bigint':
    case 'function':
    case 'symbol':
    case 'undefined':
      throw new TypeError(`A ${typeof value} has no JSON form`);
  }
}

/** What `JSON.stringify` escapes in a string: quote, backslash, control characters and (lone) surrogates. */
const NEEDS_ESCAPING = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A string in JSON: most need no escape and are quoted as they are; the others are left to `JSON.stringify`. */
function quoted(text: string): string {
  return NEEDS_ESCAPING.test(text) ? JSON.stringify(text) : `"${text}"`;
}

function canonicalArray(values: readonly unknown[]): string {
  let text = '[';
  for (let index = 0; index < values.length; index++) {
    if (index > 0) text += ',';
    const item = values[index];
    text += item === undefined || typeof item === 'symbol' ? 'null' : canonicalJson(item);
  }
  return `${text}]`;
}

/**
 * An object's keys in UTF-16 code unit order (what `sort()` with no comparator gives, and what
 * `<` compares strings by), by insertion: events' objects have a handful of keys, where this is
 * faster than the generic sort.
 */
function sortedKeys(object: object): string[] {
  const keys = Object.keys(object);
  for (let next = 1; next < keys.length; next++) {
    const key = keys[next] as string;
    let at = next - 1;
    for (; at >= 0 && (keys[at] as string) > key; at--) keys[at + 1] = keys[at] as string;
    keys[at + 1] = key;
  }
  return keys;
}

function canonicalObject(object: Record<string, unknown>): string {
  const keys = sortedKeys(object);
  let text = '{';
  for (const key of keys) {
    const member = object[key];
    if (member === undefined || typeof member === 'symbol') continue;
    if (text.length > 1) text += ',';
    text += `${quoted(key)}:${canonicalJson(member)}`;
  }
  return `${text}}`;
}
