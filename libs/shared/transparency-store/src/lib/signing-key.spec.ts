import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSigningKey, SIGNING_KEY_FILE_NAME, SigningKeyError } from './signing-key';

describe('the signing key', () => {
  let dataDir: string;
  beforeEach(() => (dataDir = mkdtempSync(join(tmpdir(), 'flagline-key-'))));
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('is generated in the data directory at first start, readable by its owner only, and kept', () => {
    const first = loadSigningKey({ dataDir });
    expect(first.generated).toBe(true);
    expect(first.key.asymmetricKeyType).toBe('ed25519');
    expect(statSync(join(dataDir, SIGNING_KEY_FILE_NAME)).mode & 0o777).toBe(0o600);
    const second = loadSigningKey({ dataDir });
    expect(second.generated).toBe(false);
    expect(second.key.export({ format: 'pem', type: 'pkcs8' })).toEqual(first.key.export({ format: 'pem', type: 'pkcs8' }));
  });

  it('comes from the configuration as PEM or as a path, and must be Ed25519', () => {
    const pem = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(loadSigningKey({ dataDir, configured: pem }).key.export({ format: 'pem', type: 'pkcs8' })).toBe(pem);
    const file = join(dataDir, 'my-key.pem');
    writeFileSync(file, pem);
    expect(loadSigningKey({ dataDir, configured: file }).from).toBe(file);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(() => loadSigningKey({ dataDir, configured: rsa })).toThrow(/Ed25519/);
    expect(() => loadSigningKey({ dataDir, configured: '/nowhere/key.pem' })).toThrow(SigningKeyError);
    expect(() => loadSigningKey({ dataDir, configured: '-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----' })).toThrow(SigningKeyError);
  });
});
