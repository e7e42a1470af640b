import { ApiProperty } from '@nestjs/swagger';

/*
 * Response shapes of the transparency routes, for the OpenAPI document only (the application's
 * answers are what is sent).
 */

const HASH = { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'SHA-256, lowercase hex' } as const;
const SIZE = { type: 'integer', minimum: 0 } as const;

export class SignedTreeHeadView {
  @ApiProperty({ ...SIZE, description: 'Leaves (events) the tree holds, in log order' })
  treeSize!: number;

  @ApiProperty({ ...HASH, description: 'RFC 6962 Merkle tree hash of the first treeSize events (SHA-256 of the empty string for an empty tree)' })
  rootHash!: string;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'When it was signed, milliseconds since the Unix epoch' })
  timestamp!: number;

  @ApiProperty({
    type: 'string',
    format: 'byte',
    description:
      'Ed25519 signature, base64, over 50 bytes (RFC 6962 §3.5 TreeHeadSignature): 0x00 (v1), 0x01 (tree_hash), timestamp as 8 bytes big-endian, tree size as 8 bytes big-endian, the 32 bytes of the root hash',
  })
  signature!: string;
}

export class PublicKeyView {
  @ApiProperty({ type: 'string', description: 'The Ed25519 public key tree heads are signed with, PEM (SPKI)' })
  publicKey!: string;

  @ApiProperty({ type: 'string', enum: ['Ed25519'] })
  algorithm!: string;

  @ApiProperty({ ...HASH, description: 'SHA-256 of the key in DER (SPKI), hex' })
  keyId!: string;
}

export class CanonicalEventView {
  @ApiProperty({ type: 'string' })
  id!: string;

  @ApiProperty({ type: 'string' })
  type!: string;

  @ApiProperty({ type: 'string' })
  streamName!: string;

  @ApiProperty({ type: 'integer', minimum: 0 })
  streamRevision!: number;

  @ApiProperty({ type: 'object', additionalProperties: true, description: 'As stored (never upcast)' })
  data!: Record<string, unknown>;

  @ApiProperty({ type: 'object', additionalProperties: true })
  metadata!: Record<string, unknown>;

  @ApiProperty({ type: 'string', format: 'date-time' })
  recordedAt!: string;
}

export class InclusionProofView {
  @ApiProperty({ ...SIZE, description: 'The leaf index: the event’s place in log order, from 0' })
  leafIndex!: number;

  @ApiProperty(SIZE)
  treeSize!: number;

  @ApiProperty({ type: 'integer', minimum: 1, description: 'The event’s global log position' })
  position!: number;

  @ApiProperty({ ...HASH, description: 'SHA-256(0x00 || RFC 8785 JSON of the event’s fields)' })
  leafHash!: string;

  @ApiProperty({ type: 'array', items: HASH, description: 'The audit path (RFC 9162 §2.1.3), leaf to root' })
  auditPath!: string[];

  @ApiProperty({ type: CanonicalEventView, description: 'The fields the leaf hashes, as stored' })
  event!: CanonicalEventView;
}

export class ConsistencyProofView {
  @ApiProperty(SIZE)
  first!: number;

  @ApiProperty(SIZE)
  second!: number;

  @ApiProperty({ type: 'array', items: HASH, description: 'The consistency proof (RFC 9162 §2.1.4); empty when first is 0 or equals second' })
  proof!: string[];
}
