import canonicalize from 'canonicalize';
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
  const text = canonicalize(canonicalEventFields(event));
  if (text === undefined) throw new TypeError(`Event ${event.id} has no canonical form`);
  return Buffer.from(text, 'utf8');
}
