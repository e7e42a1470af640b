import type { SealingKey } from '@flagline/event-sealing';

/** What `ThreadedSealingKeyStore` and its writer thread (key-writer.worker.ts) tell each other. */

/** A key as it crosses threads (a Buffer arrives as a Uint8Array). */
export interface KeyMessage {
  readonly owner: string;
  readonly id: string;
  readonly key: Uint8Array;
}

export type KeyWriterRequest =
  | { readonly kind: 'commit'; readonly batch: number; readonly keys: readonly KeyMessage[] }
  | { readonly kind: 'destroy'; readonly batch: number; readonly owner: string }
  | { readonly kind: 'close'; readonly batch: number };

export type KeyWriterReply =
  /** The keys kept (the candidates, or the ones stored before), committed; with where each is found, and how far the file is folded. */
  | { readonly kind: 'committed'; readonly batch: number; readonly kept: readonly (KeyMessage & { readonly row: number | null })[]; readonly foldedUpTo: number }
  /** The batch's keys are on stable storage. */
  | { readonly kind: 'durable'; readonly batch: number }
  | { readonly kind: 'destroyed'; readonly batch: number; readonly deleted: boolean }
  | { readonly kind: 'closed'; readonly batch: number }
  | { readonly kind: 'failed'; readonly batch: number; readonly message: string };

export const asSealingKey = (message: Pick<KeyMessage, 'id' | 'key'>): SealingKey => ({ id: message.id, key: Buffer.from(message.key.buffer, message.key.byteOffset, message.key.byteLength) });
