import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setupOrganisation, type OrganisationSetup } from '../testing/fixtures';
import { ADMIN, expectStatus, num, obj, startTestApp, str, type JsonObject, type TestApp } from '../testing/http-harness';
import { readFrames, recordOf, renumbered, withFields, writeFrames, type Frame } from '../testing/log-tampering';
import { REPOSITORY_ROOT } from '../testing/process';

const T = `${ADMIN}/transparency`;

// Each case restarts an instance and runs the verifier as its own process.
jest.setTimeout(60_000);

/** `npm run verify -- <args> --json` as its own process: its exit code and verdict. */
function runVerify(args: readonly string[]): Promise<{ code: number; verdict: JsonObject }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-r', '@swc-node/register', 'tools/verify/main.ts', ...args, '--json'], { cwd: REPOSITORY_ROOT }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      try {
        resolve({ code, verdict: obj(JSON.parse(stdout) as JsonObject) });
      } catch {
        reject(new Error(`verify exited ${code}: ${stdout}${stderr}`));
      }
    });
  });
}

/**
 * An attacker edits the embedded log of a stopped instance (recomputing checksums, keeping it
 * readable): every edit is detected at the next start, which names the first position that no
 * longer matches and signs no tree head, and by the verifier, which checks the edited log's export
 * against a tree head signed before and locates the first event that does not verify.
 */
describe('a tampered embedded log', () => {
  let original: TestApp;
  let head: JsonObject;
  let files: string;
  let size: number;
  let alpha: OrganisationSetup;

  beforeAll(async () => {
    original = await startTestApp();
    alpha = await setupOrganisation(original, 'alpha');
    await setupOrganisation(original, 'beta');
    await original.app.transparency.progress.waitFor(await original.app.admin.context.deps.storedLog!.headPosition(), 5000);
    head = obj(expectStatus(await original.admin.get(`${T}/tree-head`), 200));
    size = num(head, 'treeSize');
    files = await mkdtemp(join(tmpdir(), 'flagline-verify-'));
    await writeFile(join(files, 'head.json'), JSON.stringify(head));
    await writeFile(join(files, 'key.pem'), str(expectStatus(await original.admin.get(`${T}/public-key`), 200), 'publicKey'));
    await original.stop();
  });
  afterAll(async () => {
    await original.dispose();
    await rm(files, { recursive: true, force: true });
  });

  /** Starts an instance on a copy of the data directory, edited by `tamper` (and its tree rebuilt over the edit, when `rebuildTree`). */
  async function restartedAfter(tamper: (frames: Frame[]) => Frame[], rebuildTree = false): Promise<TestApp> {
    const copy = await mkdtemp(join(tmpdir(), 'flagline-tampered-'));
    await cp(original.dataDir, copy, { recursive: true });
    const { magic, frames } = await readFrames(copy);
    await writeFrames(copy, magic, tamper(frames));
    if (rebuildTree) for (const suffix of ['', '-wal', '-shm']) await rm(join(copy, `transparency.sqlite${suffix}`), { force: true });
    const app = await startTestApp({ dataDir: copy });
    await app.app.transparency.start();
    return app;
  }

  /** The verifier on the instance's export against the tree head signed before the edit, locating with the instance's consistency proofs. */
  async function verifyExport(t: TestApp) {
    const exported = await t.admin.get(`${ADMIN}/events/export?format=ndjson`);
    expect(exported.status).toBe(200);
    await writeFile(join(files, 'export.ndjson'), exported.text);
    return runVerify(['export', join(files, 'export.ndjson'), '--tree-head', join(files, 'head.json'), '--public-key', join(files, 'key.pem'), '--server', t.app.url, '--api-key', t.adminKey]);
  }

  async function expectDetected(t: TestApp, position: number, kind: string) {
    expect(t.app.transparency.mismatch).toMatchObject({ kind, position, leafIndex: position - 1 });
    const refused = await t.admin.get(`${T}/tree-head`);
    expect(refused.status).toBe(409);
    expect(obj(refused.body)['code']).toBe('TRANSPARENCY.LOG_MISMATCH');
    expect(obj(obj(obj(refused.body)['details'])['mismatch'])['position']).toBe(position);
    expect(obj(expectStatus(await t.admin.get('/health', { key: null }), 200))['transparency']).toEqual({ treeSize: size, checked: true, mismatchAt: position });
  }

  /** A frame of one event, well inside the log, for which `also` holds. */
  function singleEventFrame(frames: readonly Frame[], also: (index: number) => boolean = () => true): number {
    const index = frames.findIndex((frame, at) => at > 8 && at < frames.length - 8 && recordOf(frame).events.length === 1 && also(at));
    if (index < 0) throw new Error('No frame to tamper with');
    return index;
  }

  it('an intact copy verifies, at restart and with the verifier', async () => {
    const t = await restartedAfter((frames) => frames);
    try {
      expect(t.app.transparency.mismatch).toBeNull();
      expect(num(expectStatus(await t.admin.get(`${T}/tree-head?treeSize=${size}`), 200), 'treeSize')).toBe(size);
      expect(await verifyExport(t)).toMatchObject({ code: 0, verdict: { verified: true, treeSize: size } });
      // A later head extends the earlier one, given their consistency proof; not the other way round.
      expectStatus(await t.admin.post(`${ADMIN}/organisations`, { name: 'later' }), 201);
      await t.app.transparency.progress.waitFor(await t.app.admin.context.deps.storedLog!.headPosition(), 5000);
      const later = obj(expectStatus(await t.admin.get(`${T}/tree-head`), 200));
      const proof = expectStatus(await t.admin.get(`${T}/proofs/consistency?first=${size}&second=${num(later, 'treeSize')}`), 200);
      await writeFile(join(files, 'later.json'), JSON.stringify(later));
      await writeFile(join(files, 'proof.json'), JSON.stringify(proof));
      const consistency = (earlier: string, newer: string) => runVerify(['consistency', '--earlier', join(files, earlier), '--later', join(files, newer), '--proof', join(files, 'proof.json'), '--public-key', join(files, 'key.pem')]);
      expect(await consistency('head.json', 'later.json')).toMatchObject({ code: 0, verdict: { verified: true } });
      expect(await consistency('later.json', 'head.json')).toMatchObject({ code: 1, verdict: { verified: false } });
      await writeFile(join(files, 'forged.json'), JSON.stringify({ ...later, rootHash: str(head, 'rootHash') }));
      expect(await consistency('head.json', 'forged.json')).toMatchObject({ code: 1 });
      expect((await runVerify(['export'])).code).toBe(2);
      // A member's export (part of the log) is checked line by line, offline, with the proofs it may fetch.
      const mine = await t.client(alpha.memberOrgKey).get(`${ADMIN}/events/export?format=ndjson`);
      await writeFile(join(files, 'mine.ndjson'), mine.text);
      const member = ['--tree-head', join(files, 'later.json'), '--server', t.app.url, '--api-key', alpha.memberOrgKey];
      expect(await runVerify(['fetch-proofs', join(files, 'mine.ndjson'), ...member, '--out', join(files, 'proofs.ndjson')])).toMatchObject({ code: 0 });
      const lines = mine.text.split('\n').filter((line) => line !== '').length;
      expect(await runVerify(['export', join(files, 'mine.ndjson'), '--tree-head', join(files, 'later.json'), '--public-key', join(files, 'key.pem'), '--inclusion-proofs', join(files, 'proofs.ndjson')])).toMatchObject({
        code: 0,
        verdict: { verified: true, lines },
      });
      await writeFile(join(files, 'mine-edited.ndjson'), mine.text.replace('"alpha project"', '"alpha projekt"'));
      expect(await runVerify(['export', join(files, 'mine-edited.ndjson'), '--tree-head', join(files, 'later.json'), '--public-key', join(files, 'key.pem'), '--inclusion-proofs', join(files, 'proofs.ndjson')])).toMatchObject({ code: 1 });
    } finally {
      await t.dispose();
    }
  });

  it('one byte flipped in an event', async () => {
    let position = 0;
    let id = '';
    const t = await restartedAfter((frames) => {
      const index = singleEventFrame(frames, (at) => (frames[at] as Frame).payload.includes('"name":"'));
      const frame = frames[index] as Frame;
      ({ firstPosition: position } = recordOf(frame));
      id = recordOf(frame).events[0]?.id ?? '';
      const at = frame.payload.indexOf('"name":"') + '"name":"'.length;
      const payload = Buffer.from(frame.payload);
      payload.writeUInt8(payload.readUInt8(at) ^ 0x01, at);
      return frames.map((other, i) => (i === index ? { payload } : other));
    });
    try {
      await expectDetected(t, position, 'changed');
      expect(await verifyExport(t)).toMatchObject({ code: 1, verdict: { firstBad: { position, id, leafIndex: position - 1 } } });
    } finally {
      await t.dispose();
    }
  });

  it('two events swapped', async () => {
    let position = 0;
    const t = await restartedAfter((frames) => {
      const index = singleEventFrame(frames, (at) => recordOf(frames[at + 1] as Frame).events.length === 1 && recordOf(frames[at + 1] as Frame).streamName !== recordOf(frames[at] as Frame).streamName);
      const first = frames[index] as Frame;
      const second = frames[index + 1] as Frame;
      position = recordOf(first).firstPosition;
      const swapped = [...frames];
      swapped[index] = withFields(second, { firstPosition: position });
      swapped[index + 1] = withFields(first, { firstPosition: position + 1 });
      return swapped;
    });
    try {
      await expectDetected(t, position, 'replaced');
      expect(await verifyExport(t)).toMatchObject({ code: 1, verdict: { firstBad: { position, leafIndex: position - 1 } } });
    } finally {
      await t.dispose();
    }
  });

  it('an event dropped', async () => {
    let position = 0;
    const t = await restartedAfter((frames) => {
      // The last event of its stream, so the stream's revisions stay whole.
      const index = singleEventFrame(frames, (at) => !frames.slice(at + 1).some((later) => recordOf(later).streamName === recordOf(frames[at] as Frame).streamName));
      position = recordOf(frames[index] as Frame).firstPosition;
      return renumbered(frames.filter((_, at) => at !== index));
    });
    try {
      await expectDetected(t, position, 'replaced');
      expect(await verifyExport(t)).toMatchObject({ code: 1, verdict: { firstBad: { position, leafIndex: position - 1 } } });
    } finally {
      await t.dispose();
    }
  });

  it('an event changed and the tree rebuilt over the edit: the restart cannot tell, a head signed before can', async () => {
    const t = await restartedAfter((frames) => {
      const index = singleEventFrame(frames, (at) => (frames[at] as Frame).payload.includes('"name":"'));
      const frame = frames[index] as Frame;
      const at = frame.payload.indexOf('"name":"') + '"name":"'.length;
      const payload = Buffer.from(frame.payload);
      payload.writeUInt8(payload.readUInt8(at) ^ 0x01, at);
      return frames.map((other, i) => (i === index ? { payload } : other));
    }, true);
    try {
      expect(t.app.transparency.mismatch).toBeNull();
      await t.app.transparency.progress.waitFor(await t.app.admin.context.deps.storedLog!.headPosition(), 5000);
      const now = obj(expectStatus(await t.admin.get(`${T}/tree-head`), 200));
      const proof = expectStatus(await t.admin.get(`${T}/proofs/consistency?first=${size}&second=${num(now, 'treeSize')}`), 200);
      await writeFile(join(files, 'rebuilt.json'), JSON.stringify(now));
      await writeFile(join(files, 'rebuilt-proof.json'), JSON.stringify(proof));
      const consistency = await runVerify(['consistency', '--earlier', join(files, 'head.json'), '--later', join(files, 'rebuilt.json'), '--proof', join(files, 'rebuilt-proof.json'), '--public-key', join(files, 'key.pem')]);
      expect(consistency).toMatchObject({ code: 1, verdict: { verified: false } });
      const verdict = await verifyExport(t);
      expect(verdict).toMatchObject({ code: 1, verdict: { verified: false, message: expect.stringMatching(/tree was rewritten/) as unknown } });
      expect(verdict.verdict['firstBad']).toBeUndefined();
    } finally {
      await t.dispose();
    }
  });

  it('the log truncated', async () => {
    let position = 0;
    const t = await restartedAfter((frames) => {
      const index = singleEventFrame(frames);
      position = recordOf(frames[index] as Frame).firstPosition;
      return frames.slice(0, index);
    });
    try {
      await expectDetected(t, position, 'missing');
      expect(await verifyExport(t)).toMatchObject({ code: 1, verdict: { firstBad: { leafIndex: position - 1, afterPosition: position - 1 } } });
    } finally {
      await t.dispose();
    }
  });
});
