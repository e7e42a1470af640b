/** An API key as the write model keeps it: never the secret, only its hash and a display prefix. */
export interface StoredApiKey {
  readonly keyId: string;
  readonly name: string;
  /** SHA-256 hex of the full key. */
  readonly keyHash: string;
  /** First characters of the key, shown in listings so people recognise their keys. */
  readonly prefix: string;
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

export interface IssueKeyFields {
  readonly keyId: string;
  readonly name: string;
  readonly keyHash: string;
  readonly prefix: string;
  readonly createdAt: string;
}
