import { generateKeyPairSync, verify } from 'node:crypto';
import { ed25519PublicKey, parseSignedTreeHead, signTreeHead, treeHeadSignatureInput, verifyTreeHead } from './signed-tree-head';

describe('signed tree heads', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const root = Buffer.alloc(32, 0xab);

  it('sign the 50 bytes of RFC 6962 §3.5: version, type, timestamp, size, root', () => {
    const bytes = treeHeadSignatureInput(300, 1_765_000_000_123, root);
    expect(bytes.toString('hex')).toBe(`0001${(1_765_000_000_123).toString(16).padStart(16, '0')}${(300).toString(16).padStart(16, '0')}${'ab'.repeat(32)}`);
    const head = signTreeHead(privateKey, 300, root, 1_765_000_000_123);
    expect(head).toMatchObject({ treeSize: 300, rootHash: 'ab'.repeat(32), timestamp: 1_765_000_000_123 });
    // Any Ed25519 implementation checks it over those bytes.
    expect(verify(null, bytes, publicKey, Buffer.from(head.signature, 'base64'))).toBe(true);
    expect(verifyTreeHead(publicKey, head)).toBe(true);
  });

  it('fail to verify when any field or the key differs', () => {
    const head = signTreeHead(privateKey, 300, root, 1_765_000_000_123);
    const other = generateKeyPairSync('ed25519').publicKey;
    expect(verifyTreeHead(other, head)).toBe(false);
    expect(verifyTreeHead(publicKey, { ...head, treeSize: 301 })).toBe(false);
    expect(verifyTreeHead(publicKey, { ...head, timestamp: head.timestamp + 1 })).toBe(false);
    expect(verifyTreeHead(publicKey, { ...head, rootHash: 'ac'.repeat(32) })).toBe(false);
    expect(verifyTreeHead(publicKey, { ...head, rootHash: 'not hex' })).toBe(false);
  });

  it('read back from JSON, naming what is wrong', () => {
    const head = signTreeHead(privateKey, 3, root, 5);
    expect(parseSignedTreeHead(JSON.parse(JSON.stringify(head)))).toEqual(head);
    expect(parseSignedTreeHead({ ...head, treeSize: -1 })).toMatch(/treeSize/);
    expect(parseSignedTreeHead({ ...head, rootHash: 'AB'.repeat(32) })).toMatch(/rootHash/);
    expect(parseSignedTreeHead(null)).toMatch(/object/);
    expect(ed25519PublicKey(publicKey.export({ format: 'pem', type: 'spki' }).toString())?.asymmetricKeyType).toBe('ed25519');
    expect(ed25519PublicKey('not a key')).toBeNull();
    expect(ed25519PublicKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'pem', type: 'spki' }).toString())).toBeNull();
  });
});
