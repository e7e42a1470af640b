import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { freePort } from '../support';
import { forkPeer } from './fork-peer';

/** The floor of scenario 4 stores what it acknowledges: each new identity sealed in the log, its key in a slot, its document behind. */
describe('the durable identify floor (durable-identify-server.ts)', () => {
  let directory: string;
  let server: ChildProcess | undefined;
  let url: string;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'flagline-floor-spec-'));
    const port = await freePort();
    server = await forkPeer('durable-identify-server.ts', [String(port), join(directory, 'data')]);
    url = `http://127.0.0.1:${port}/api/v1/identities/`;
  }, 60_000);

  afterAll(() => {
    server?.kill('SIGKILL');
    rmSync(directory, { recursive: true, force: true });
  });

  const identify = (body: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const logLines = (): string[] => readFileSync(join(directory, 'data', 'events.log'), 'utf8').split('\n').filter((line) => line !== '');

  it('answers each new identity once its sealed event and its key are written, and writes its document behind', async () => {
    const identifiers = Array.from({ length: 20 }, (_, index) => `floor-spec-${index}`);
    const answers = await Promise.all(identifiers.map((identifier) => identify(JSON.stringify({ identifier, traits: [{ trait_key: 'plan', trait_value: 'pro' }] }))));
    expect(answers.map((answer) => answer.status)).toEqual(identifiers.map(() => 200));
    const bodies = (await Promise.all(answers.map((answer) => answer.json()))) as { identifier: string; flags: unknown[] }[];
    expect(bodies.map((body) => body.identifier)).toEqual(identifiers);
    expect(bodies[0]?.flags).toHaveLength(10);

    const events = logLines().map((line) => JSON.parse(line) as { type: string; data: { sealed?: { iv: string; ct: string } } });
    expect(events).toHaveLength(20);
    for (const event of events) expect(event).toMatchObject({ type: 'IdentityCreated', data: { sealed: { iv: expect.any(String), ct: expect.any(String) } } });
    // The identifiers are sealed: not one is in the log in the clear.
    expect(identifiers.some((identifier) => readFileSync(join(directory, 'data', 'events.log'), 'utf8').includes(identifier))).toBe(false);
    expect(statSync(join(directory, 'data', 'key-slots')).size).toBe(20 * 32);

    let documents = 0;
    for (let attempt = 0; attempt < 50 && documents < 20; attempt++) {
      await new Promise((resolveWait) => setTimeout(resolveWait, 50));
      const db = new Database(join(directory, 'data', 'documents.sqlite'), { readonly: true });
      documents = (db.prepare('SELECT count(*) AS n FROM documents').get() as { n: number }).n;
      db.close();
    }
    expect(documents).toBe(20);
  }, 30_000);

  it('answers a body that is not an identify with 400 and stores nothing', async () => {
    const before = logLines().length;
    for (const body of ['{', 'null', '{"identifier":5,"traits":[]}', '{"identifier":"x"}']) expect((await identify(body)).status).toBe(400);
    expect(logLines()).toHaveLength(before);
  }, 30_000);
});
