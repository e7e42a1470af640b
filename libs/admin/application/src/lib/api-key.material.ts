import { createHash, randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Random base62 text; rejection sampling keeps every character equally likely. */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += ALPHABET[byte % 62];
    }
  }
  return out;
}

export const hashKey = (key: string): string => createHash('sha256').update(key).digest('hex');

export interface KeyMaterial {
  readonly key: string;
  readonly keyHash: string;
  readonly prefix: string;
}

function material(key: string, prefixLength: number): KeyMaterial {
  return { key, keyHash: hashKey(key), prefix: key.slice(0, prefixLength) };
}

/** An admin API key (user or organisation): `flk_` and 40 random characters. */
export const newAdminKey = (): KeyMaterial => material(`flk_${randomBase62(40)}`, 10);

/** An environment's server-side key, `ser.` and 22 random characters like Flagsmith's. */
export const newServerKey = (): KeyMaterial => material(`ser.${randomBase62(22)}`, 8);

/** An environment's client-side key: 22 random characters, public. */
export const newClientKey = (): string => randomBase62(22);

/** The public id of an issued key, used to list and revoke it. */
export const newKeyId = (): string => `key_${randomBase62(12)}`;
