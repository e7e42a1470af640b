import type { IdentityDocument } from '@flagline/contracts';
import { REMEMBERED_BODY_BYTES, REMEMBERED_IDENTITY_BYTES, ServedEnvironment } from './served-environment';
import type { SdkAnswer } from './sdk-answer';
import { anEnvironmentDocument, anIdentityDocument } from './testing/environment-documents';

const identity: IdentityDocument = anIdentityDocument('ada');

const answerOf = (bytes: number): SdkAnswer => ({ status: 200, body: Buffer.alloc(bytes, 0x20), complete: true });
const bodyOf = (index: number): string => JSON.stringify({ identifier: `user-${index}`, traits: [{ trait_key: 'plan', trait_value: 'pro' }] });

/** Remembers `count` answers of `bytes` each under distinct bodies; answers how many of them are still remembered, and whether the newest is. */
function remember(count: number, bytes: number): { kept: number; newestKept: boolean; oldestKept: boolean } {
  const served = new ServedEnvironment(anEnvironmentDocument());
  for (let index = 0; index < count; index++) served.rememberBodyAnswer('server', bodyOf(index), { identifier: `user-${index}`, identity, answer: answerOf(bytes) });
  let kept = 0;
  for (let index = 0; index < count; index++) if (served.bodyAnswer('server', bodyOf(index)) !== undefined) kept++;
  return { kept, newestKept: served.bodyAnswer('server', bodyOf(count - 1)) !== undefined, oldestKept: served.bodyAnswer('server', bodyOf(0)) !== undefined };
}

describe('answers remembered by exact body', () => {
  it('keeps answers up to a size in bytes, not a count: large answers are fewer, the least recently used go first', () => {
    const large = remember(1_000, 64 * 1024);
    expect(large.kept).toBeGreaterThan(200);
    expect(large.kept * 64 * 1024).toBeLessThanOrEqual(REMEMBERED_BODY_BYTES);
    expect(large.newestKept).toBe(true);
    expect(large.oldestKept).toBe(false);
  });

  it('keeps every answer of 1,000 identities rotating at about 20 flags (7 KB each)', () => {
    const rotating = remember(1_000, 7 * 1024);
    expect(rotating.kept).toBe(1_000);
  });

  it('keeps tens of thousands of small answers within the same bytes', () => {
    const small = remember(20_000, 200);
    expect(small.kept).toBe(20_000);
  });
});

describe('answers remembered per identity document', () => {
  it('keeps answers up to a size in bytes, whatever the number of documents cached', () => {
    const served = new ServedEnvironment(anEnvironmentDocument());
    const documents = Array.from({ length: 1_000 }, (_, index) => anIdentityDocument(`user-${index}`));
    for (const document of documents) served.rememberIdentityAnswer(document, 'server', answerOf(64 * 1024));
    const kept = documents.filter((document) => served.identityAnswer(document, 'server') !== undefined).length;
    expect(kept).toBeGreaterThan(200);
    expect(kept * 64 * 1024).toBeLessThanOrEqual(REMEMBERED_IDENTITY_BYTES);
    expect(served.identityAnswer(documents[999] as IdentityDocument, 'server')).toBeDefined();
    expect(served.identityAnswer(documents[0] as IdentityDocument, 'server')).toBeUndefined();
  });

  it('keeps both kinds of key of one document, each its own answer', () => {
    const served = new ServedEnvironment(anEnvironmentDocument());
    const client = answerOf(100);
    const server = answerOf(200);
    served.rememberIdentityAnswer(identity, 'client', client);
    served.rememberIdentityAnswer(identity, 'server', server);
    expect(served.identityAnswer(identity, 'client')).toBe(client);
    expect(served.identityAnswer(identity, 'server')).toBe(server);
    expect(served.identityAnswer({ ...identity }, 'server')).toBeUndefined();
  });
});
