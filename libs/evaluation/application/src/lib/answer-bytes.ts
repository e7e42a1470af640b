/** Bytes of answers are cut from slabs of this size. */
const SLAB_BYTES = 128 * 1024;
/** Answers from this size up get an allocation of their own (a slab holds at least four). */
const OWN_ALLOCATION_FROM = SLAB_BYTES / 4;

/**
 * Memory for answers that live only until they are written to their socket, cut one after
 * another from a shared slab, as Node's own pool does for buffers under 4 KiB. An identify
 * answer of a few tens of flags takes 4 to 30 KiB, past Node's pool: each would otherwise be an
 * ArrayBuffer of its own (a malloc, a backing store the collector tracks, and external memory,
 * whose growth starts full collections). Nothing is ever reused: a slab is freed by the collector
 * once no answer cut from it is referenced any more. The trade-off: an answer a slow client has
 * not taken yet keeps its whole slab alive (128 KiB for a few KiB), bounded by socket timeouts;
 * answers kept for longer (remembered bodies) must not be cut from a slab.
 */
export class AnswerSlab {
  private slab = AnswerSlab.fresh();
  private used = 0;

  /** A slab's memory, not initialised (zeroing it would double the cost of an answer's memory). */
  private static fresh(): ArrayBuffer {
    return Buffer.allocUnsafeSlow(SLAB_BYTES).buffer;
  }

  /** `length` bytes, not initialised: the caller writes every one. */
  take(length: number): Buffer {
    if (length >= OWN_ALLOCATION_FROM) return Buffer.allocUnsafeSlow(length);
    if (this.used + length > SLAB_BYTES) {
      this.slab = AnswerSlab.fresh();
      this.used = 0;
    }
    const bytes = Buffer.from(this.slab, this.used, length);
    // The next answer starts 8-aligned, as Node's pool aligns its buffers.
    this.used = (this.used + length + 7) & ~7;
    return bytes;
  }
}

const COMMA = 0x2c;

/**
 * Buffer methods called through constants rather than read from each buffer: Node's buffer
 * prototype is not one V8's optimising compiler resolves at compile time, so `body.set` and
 * `body.write` would each pass through the generic property-load handler (about 70 instructions
 * under callgrind, once per flag of an answer).
 */
// eslint-disable-next-line @typescript-eslint/unbound-method -- only ever called with `.call` on a buffer
const typedArraySet: (this: Uint8Array, source: Uint8Array, offset: number) => void = Uint8Array.prototype.set;
// eslint-disable-next-line @typescript-eslint/unbound-method -- likewise
const bufferWrite: (this: Buffer, text: string, offset: number) => number = (Buffer.prototype as Buffer).write;

/**
 * `head`, the fragments separated by commas, and `tail`, as one buffer: the texts are encoded
 * straight into it and the fragments copied with `TypedArray#set`, with no buffer made for each
 * text and no array of parts. `into` gives the memory (`AnswerSlab#take`, or an allocation of its
 * own for an answer kept long). Only the first `count` fragments are joined: an array reused
 * between answers keeps its length, since cutting it and growing it again reallocates its storage.
 */
export function joinedBytes(head: string, fragments: readonly Buffer[], tail: string, into: (length: number) => Buffer, count = fragments.length): Buffer {
  const headLength = Buffer.byteLength(head);
  let length = headLength + Buffer.byteLength(tail) + Math.max(0, count - 1);
  for (let index = 0; index < count; index++) length += (fragments[index] as Buffer).length;
  const body = into(length);
  let offset = bufferWrite.call(body, head, 0);
  for (let index = 0; index < count; index++) {
    if (index > 0) body[offset++] = COMMA;
    const fragment = fragments[index] as Buffer;
    typedArraySet.call(body, fragment, offset);
    offset += fragment.length;
  }
  bufferWrite.call(body, tail, offset);
  return body;
}
