import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { HASH_BYTES } from './merkle';

/** A tree head the instance signed: the size and root of its log's Merkle tree at a time. */
export interface SignedTreeHead {
  readonly treeSize: number;
  /** Root hash, lowercase hex. */
  readonly rootHash: string;
  /** When it was signed, in milliseconds since the Unix epoch. */
  readonly timestamp: number;
  /** Ed25519 signature over `treeHeadSignatureInput`, base64. */
  readonly signature: string;
}

/** Bytes `treeHeadSignatureInput` lays out. */
export const TREE_HEAD_SIGNATURE_INPUT_BYTES = 50;

/**
 * The bytes a tree head's signature covers, RFC 6962 §3.5's `TreeHeadSignature`:
 * version (1 byte, 0 = v1), signature type (1 byte, 1 = tree_hash), timestamp (8 bytes, big-endian
 * milliseconds since the epoch), tree size (8 bytes, big-endian), root hash (32 bytes): 50 bytes.
 */
export function treeHeadSignatureInput(treeSize: number, timestamp: number, rootHash: Uint8Array): Buffer {
  if (!Number.isSafeInteger(treeSize) || treeSize < 0) throw new RangeError(`Tree size ${treeSize} is not a count`);
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new RangeError(`Timestamp ${timestamp} is not a time`);
  if (rootHash.length !== HASH_BYTES) throw new RangeError(`A root hash has ${HASH_BYTES} bytes, not ${rootHash.length}`);
  const bytes = Buffer.alloc(TREE_HEAD_SIGNATURE_INPUT_BYTES);
  bytes.writeUInt8(0, 0);
  bytes.writeUInt8(1, 1);
  bytes.writeBigUInt64BE(BigInt(timestamp), 2);
  bytes.writeBigUInt64BE(BigInt(treeSize), 10);
  Buffer.from(rootHash).copy(bytes, 18);
  return bytes;
}

/** Signs a tree head with an Ed25519 private key. */
export function signTreeHead(privateKey: KeyObject, treeSize: number, rootHash: Uint8Array, timestamp: number): SignedTreeHead {
  const signature = sign(null, treeHeadSignatureInput(treeSize, timestamp, rootHash), privateKey);
  return { treeSize, rootHash: Buffer.from(rootHash).toString('hex'), timestamp, signature: signature.toString('base64') };
}

/** A public key from its PEM (SPKI) text, or null when it is not an Ed25519 public key. */
export function ed25519PublicKey(pem: string): KeyObject | null {
  try {
    const key = createPublicKey(pem);
    return key.asymmetricKeyType === 'ed25519' ? key : null;
  } catch {
    return null;
  }
}

/** Whether a tree head's fields are well formed and its signature verifies with the public key. */
export function verifyTreeHead(publicKey: KeyObject, head: SignedTreeHead): boolean {
  if (!/^[0-9a-f]{64}$/.test(head.rootHash)) return false;
  try {
    const input = treeHeadSignatureInput(head.treeSize, head.timestamp, Buffer.from(head.rootHash, 'hex'));
    return verify(null, input, publicKey, Buffer.from(head.signature, 'base64'));
  } catch {
    return false;
  }
}

/** A tree head read from JSON (an API answer or a file), or a message naming what is wrong with it. */
export function parseSignedTreeHead(value: unknown): SignedTreeHead | string {
  if (typeof value !== 'object' || value === null) return 'a tree head is a JSON object';
  const { treeSize, rootHash, timestamp, signature } = value as Record<string, unknown>;
  if (typeof treeSize !== 'number' || !Number.isSafeInteger(treeSize) || treeSize < 0) return 'treeSize must be a non-negative integer';
  if (typeof rootHash !== 'string' || !/^[0-9a-f]{64}$/.test(rootHash)) return 'rootHash must be 64 lowercase hex digits';
  if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp) || timestamp < 0) return 'timestamp must be milliseconds since the epoch';
  if (typeof signature !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(signature)) return 'signature must be base64';
  return { treeSize, rootHash, timestamp, signature };
}
