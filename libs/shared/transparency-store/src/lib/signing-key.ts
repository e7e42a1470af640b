import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { writeNewFileDurably } from '@flagline/event-store-embedded';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** File name of the generated signing key in a data directory. */
export const SIGNING_KEY_FILE_NAME = 'transparency-signing-key.pem';

export class SigningKeyError extends Error {
  override readonly name = 'SigningKeyError';
}

export interface SigningKeySource {
  /** `TRANSPARENCY_SIGNING_KEY`: an Ed25519 private key in PEM (PKCS #8), or the path of a file holding one. */
  readonly configured?: string;
  /** Where a key is generated and kept when none is configured (mode 0600). */
  readonly dataDir: string;
}

function ed25519PrivateKey(pem: string, from: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw new SigningKeyError(`${from} is not a private key in PEM: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new SigningKeyError(`${from} is a ${key.asymmetricKeyType ?? 'unknown'} key; tree heads are signed with Ed25519`);
  return key;
}

/**
 * The key tree heads are signed with: the configured one (PEM text, or a file path), else the one
 * kept in the data directory, generated there at first start (mode 0600).
 */
export function loadSigningKey(source: SigningKeySource): { key: KeyObject; generated: boolean; from: string } {
  const configured = source.configured?.trim();
  if (configured) {
    if (configured.startsWith('-----BEGIN')) return { key: ed25519PrivateKey(configured, 'TRANSPARENCY_SIGNING_KEY'), generated: false, from: 'TRANSPARENCY_SIGNING_KEY' };
    if (!existsSync(configured)) throw new SigningKeyError(`TRANSPARENCY_SIGNING_KEY names ${configured}, which does not exist (give a PEM key or the path of one)`);
    return { key: ed25519PrivateKey(readFileSync(configured, 'utf8'), configured), generated: false, from: configured };
  }
  const file = join(source.dataDir, SIGNING_KEY_FILE_NAME);
  if (existsSync(file)) return { key: ed25519PrivateKey(readFileSync(file, 'utf8'), file), generated: false, from: file };
  const { privateKey } = generateKeyPairSync('ed25519');
  // Durable before a head is signed with it: a key lost in a crash leaves heads nobody can check again.
  writeNewFileDurably(file, privateKey.export({ format: 'pem', type: 'pkcs8' }));
  return { key: privateKey, generated: true, from: file };
}
