import { canonicalEventBytes, type CanonicalEventFields } from '@flagline/event-sourcing';
import { rfcLeaf, rfcMth, rfcRootFromPath, rfcVerifyConsistency } from '@flagline/transparency/testing';
import { createPublicKey, verify } from 'node:crypto';
import { setupOrganisation, type OrganisationSetup } from '../testing/fixtures';
import { ADMIN, errorFields, expectStatus, num, obj, str, startTestApp, type ApiClient, type JsonObject, type TestApp } from '../testing/http-harness';

const T = `${ADMIN}/transparency`;

/** The NDJSON lines of the administrator's export: every stored event, in log order. */
async function exportLines(client: ApiClient): Promise<JsonObject[]> {
  const response = await client.get(`${ADMIN}/events/export?format=ndjson`);
  expect(response.status).toBe(200);
  return response.text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => obj(JSON.parse(line) as JsonObject));
}

const leafOf = (line: JsonObject): Buffer => rfcLeaf(canonicalEventBytes(line as unknown as CanonicalEventFields));
const hashes = (list: JsonObject, field: string): Buffer[] => (list[field] as string[]).map((hash) => Buffer.from(hash, 'hex'));

/** Checks a tree head's signature over RFC 6962's TreeHeadSignature bytes, laid out here, with the served key. */
function signatureVerifies(head: JsonObject, publicKeyPem: string): boolean {
  const bytes = Buffer.alloc(50);
  bytes[1] = 1;
  bytes.writeBigUInt64BE(BigInt(num(head, 'timestamp')), 2);
  bytes.writeBigUInt64BE(BigInt(num(head, 'treeSize')), 10);
  Buffer.from(str(head, 'rootHash'), 'hex').copy(bytes, 18);
  return verify(null, bytes, createPublicKey(publicKeyPem), Buffer.from(str(head, 'signature'), 'base64'));
}

describe('transparency routes', () => {
  let t: TestApp;
  let a: OrganisationSetup;
  let b: OrganisationSetup;
  let publicKey: string;

  /** Waits until the tree holds the whole log, then answers its head. */
  async function currentHead(): Promise<JsonObject> {
    await t.app.transparency.progress.waitFor(await t.app.admin.context.deps.storedLog!.headPosition(), 5000);
    return obj(expectStatus(await t.admin.get(`${T}/tree-head`), 200));
  }

  beforeAll(async () => {
    t = await startTestApp();
    a = await setupOrganisation(t, 'alpha');
    b = await setupOrganisation(t, 'beta');
    publicKey = str(expectStatus(await t.client(a.memberOrgKey).get(`${T}/public-key`), 200), 'publicKey');
  });
  afterAll(() => t.dispose());

  it('signs a tree head over every stored event, whose root an RFC 6962 implementation recomputes from the export', async () => {
    const head = await currentHead();
    const lines = await exportLines(t.admin);
    expect(num(head, 'treeSize')).toBe(lines.length);
    expect(str(head, 'rootHash')).toBe(rfcMth(lines.map(leafOf)).toString('hex'));
    expect(signatureVerifies(head, publicKey)).toBe(true);
    expect(signatureVerifies({ ...head, treeSize: num(head, 'treeSize') - 1 }, publicKey)).toBe(false);
    // Any authenticated caller may read heads; the same size answers the same head.
    expect(expectStatus(await t.client(b.memberOrgKey).get(`${T}/tree-head?treeSize=${num(head, 'treeSize')}`), 200)).toEqual(head);
    // An earlier size is answered only with a head signed then: never signed after the fact.
    const unsigned = await t.client(b.userKey).get(`${T}/tree-head?treeSize=5`);
    expect(unsigned.status).toBe(404);
    expect(obj(unsigned.body)['code']).toBe('TRANSPARENCY.HEAD_NOT_SIGNED');
  });

  it('gives an inclusion proof of an event the caller may read, by position or id, that an RFC 6962 implementation verifies', async () => {
    const head = await currentHead();
    const lines = await exportLines(t.admin);
    const root = Buffer.from(str(head, 'rootHash'), 'hex');
    const mine = lines.filter((line) => obj(line['metadata']).organisationId === String(a.organisationId));
    expect(mine.length).toBeGreaterThan(3);
    for (const line of [mine[0], mine[Math.floor(mine.length / 2)], mine[mine.length - 1]].map(obj)) {
      const byPosition = obj(expectStatus(await t.client(a.memberOrgKey).get(`${T}/proofs/inclusion?position=${num(line, 'position')}`), 200));
      const byId = obj(expectStatus(await t.client(a.userKey).get(`${T}/proofs/inclusion?eventId=${str(line, 'id')}&treeSize=${num(head, 'treeSize')}`), 200));
      expect(byId).toEqual(byPosition);
      const leafIndex = num(byPosition, 'leafIndex');
      expect(lines[leafIndex]).toEqual(line);
      const { position: _position, ...fields } = line;
      expect(byPosition['event']).toEqual(fields);
      expect(str(byPosition, 'leafHash')).toBe(leafOf(line).toString('hex'));
      expect(rfcRootFromPath(leafIndex, num(head, 'treeSize'), leafOf(line), hashes(byPosition, 'auditPath'))).toEqual(root);
    }
  });

  it("answers not found for another organisation's event, an unknown one, or a user's own stream to someone else", async () => {
    const lines = await exportLines(t.admin);
    const alphaEvent = obj(lines.find((line) => obj(line['metadata']).organisationId === String(a.organisationId)));
    const missing = await t.client(b.orgKey).get(`${T}/proofs/inclusion?position=${num(alphaEvent, 'position')}`);
    expect(missing.status).toBe(404);
    expect(obj(missing.body)['code']).toBe('EVENT.NOT_FOUND');
    expect((await t.client(b.orgKey).get(`${T}/proofs/inclusion?eventId=${str(alphaEvent, 'id')}`)).status).toBe(404);
    expect((await t.admin.get(`${T}/proofs/inclusion?eventId=no-such-event`)).status).toBe(404);
    expect((await t.admin.get(`${T}/proofs/inclusion?position=99999999`)).status).toBe(404);
    const alphaUserEvent = obj(lines.find((line) => line['streamName'] === `user-${a.userId}`));
    expect((await t.client(a.userKey).get(`${T}/proofs/inclusion?position=${num(alphaUserEvent, 'position')}`)).status).toBe(200);
    expect((await t.client(b.userKey).get(`${T}/proofs/inclusion?position=${num(alphaUserEvent, 'position')}`)).status).toBe(404);
  });

  it('proves a just-written event asked for at once by id, as by position: the proof waits, bounded, for its leaf', async () => {
    const storedLog = t.app.admin.context.deps.storedLog!;
    for (const [n, by] of [
      [1, 'eventId'],
      [2, 'position'],
    ] as const) {
      expectStatus(await t.client(a.orgKey).post(`${ADMIN}/projects/${a.projectId}/features`, { name: `just_written_${n}` }), 201);
      const head = await storedLog.headPosition();
      const [event] = await storedLog.readAll({ after: head - 1, maxCount: 1 });
      // Asked before the tree has been waited for (its follower batches for up to 20 ms).
      const query = by === 'eventId' ? `eventId=${event!.id}` : `position=${head}`;
      const proof = obj(expectStatus(await t.client(a.orgKey).get(`${T}/proofs/inclusion?${query}`), 200));
      expect(num(proof, 'position')).toBe(head);
      const leaf = rfcLeaf(canonicalEventBytes(obj(proof['event']) as unknown as CanonicalEventFields));
      const treeSize = num(proof, 'treeSize');
      expect(rfcRootFromPath(num(proof, 'leafIndex'), treeSize, leaf, hashes(proof, 'auditPath'))?.toString('hex')).toBe(t.app.transparency.rootHash(treeSize));
    }
  });

  it('gives consistency proofs from an earlier head to a later one that an RFC 6962 implementation verifies', async () => {
    const earlier = await currentHead();
    expectStatus(await t.client(a.orgKey).post(`${ADMIN}/projects/${a.projectId}/features`, { name: 'later_feature' }), 201);
    const later = await currentHead();
    expect(num(later, 'treeSize')).toBeGreaterThan(num(earlier, 'treeSize'));
    // Roots of sizes no head was signed at, recomputed from the export.
    const lines = await exportLines(t.admin);
    for (const first of [0, 1, 7, num(earlier, 'treeSize')]) {
      const firstRoot = first === num(earlier, 'treeSize') ? Buffer.from(str(earlier, 'rootHash'), 'hex') : rfcMth(lines.slice(0, first).map(leafOf));
      const proof = obj(expectStatus(await t.client(b.memberOrgKey).get(`${T}/proofs/consistency?first=${first}&second=${num(later, 'treeSize')}`), 200));
      expect(rfcVerifyConsistency(first, num(later, 'treeSize'), firstRoot, Buffer.from(str(later, 'rootHash'), 'hex'), hashes(proof, 'proof'))).toBe(true);
    }
  });

  it("keeps every proof through an identity's erasure: its events' leaves are unchanged and the later head extends the earlier", async () => {
    const identities = `${ADMIN}/environments/${a.environmentId}/identities`;
    expectStatus(await t.client(a.orgKey).post(identities, { identifier: 'erase-me', traits: { email: 'erase-me@example.com' } }), 201);
    const before = await currentHead();
    const created = obj((await exportLines(t.admin)).filter((line) => line['type'] === 'IdentityCreated').pop());
    const proofBefore = obj(expectStatus(await t.client(a.orgKey).get(`${T}/proofs/inclusion?eventId=${str(created, 'id')}`), 200));
    expectStatus(await t.client(a.orgKey).post(`${identities}/erase-me/erase`), 204);
    const after = await currentHead();
    expect(num(after, 'treeSize')).toBeGreaterThan(num(before, 'treeSize'));
    const proofAfter = obj(expectStatus(await t.client(a.orgKey).get(`${T}/proofs/inclusion?eventId=${str(created, 'id')}`), 200));
    expect(proofAfter['event']).toEqual(proofBefore['event']);
    // The event as stored: its personal data sealed, never in clear, before or after.
    expect(JSON.stringify(proofBefore['event'])).not.toContain('erase-me@example.com');
    expect(str(proofAfter, 'leafHash')).toBe(str(proofBefore, 'leafHash'));
    const leaf = rfcLeaf(canonicalEventBytes(obj(proofAfter['event']) as unknown as CanonicalEventFields));
    expect(leaf.toString('hex')).toBe(str(proofBefore, 'leafHash'));
    expect(rfcRootFromPath(num(proofAfter, 'leafIndex'), num(after, 'treeSize'), leaf, hashes(proofAfter, 'auditPath'))?.toString('hex')).toBe(str(after, 'rootHash'));
    expect(rfcRootFromPath(num(proofBefore, 'leafIndex'), num(before, 'treeSize'), leaf, hashes(proofBefore, 'auditPath'))?.toString('hex')).toBe(str(before, 'rootHash'));
    const consistency = obj(expectStatus(await t.admin.get(`${T}/proofs/consistency?first=${num(before, 'treeSize')}&second=${num(after, 'treeSize')}`), 200));
    expect(rfcVerifyConsistency(num(before, 'treeSize'), num(after, 'treeSize'), Buffer.from(str(before, 'rootHash'), 'hex'), Buffer.from(str(after, 'rootHash'), 'hex'), hashes(consistency, 'proof'))).toBe(true);
  });

  it('names every bad parameter in a 400, and wants a key', async () => {
    const size = num(await currentHead(), 'treeSize');
    const cases: [string, string[]][] = [
      [`${T}/tree-head?treeSize=abc`, ['treeSize']],
      [`${T}/tree-head?treeSize=-1`, ['treeSize']],
      [`${T}/tree-head?treeSize=${size + 1}`, ['treeSize']],
      [`${T}/tree-head?treeSize=99999999999999999999`, ['treeSize']],
      [`${T}/proofs/inclusion`, ['position']],
      [`${T}/proofs/inclusion?position=0&treeSize=x`, ['treeSize', 'position']],
      [`${T}/proofs/inclusion?position=1&eventId=abc`, ['eventId']],
      [`${T}/proofs/inclusion?position=${size}&treeSize=1`, ['treeSize']],
      [`${T}/proofs/consistency`, ['first', 'second']],
      [`${T}/proofs/consistency?first=5&second=3`, ['first']],
      [`${T}/proofs/consistency?first=1&second=${size + 1}`, ['second']],
      [`${T}/proofs/consistency?first=1&first=2&second=3`, ['first']],
    ];
    for (const [path, fields] of cases) {
      const response = await t.admin.get(path);
      expect([path, response.status]).toEqual([path, 400]);
      expect(errorFields(response.body).sort()).toEqual([...fields].sort());
    }
    for (const path of [`${T}/tree-head`, `${T}/public-key`, `${T}/proofs/consistency?first=1&second=2`]) expect((await t.client(null).get(path)).status).toBe(401);
  });
});
