import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { ADMIN, ApiClient, expectStatus, num, str, tempDataDir } from '../testing/http-harness';
import { startStandaloneProcess, type StandaloneProcess } from '../testing/process';

jest.setTimeout(120_000);

interface Identified {
  readonly identifier: string;
  readonly traits: Record<string, string | number>;
}

/**
 * New identities are sealed under a key per identity, committed on the main thread and made
 * durable before the answer, and become leaves of the Merkle tree written by a worker thread: the
 * process killed with SIGKILL while SDK identifies create identities, and started again, serves
 * every identity it acknowledged with its traits (its key was durable before the answer), and its
 * tree covers the whole log. Every answer that arrived before the kill is a 200.
 */
describe('Killing the standalone process while SDK identifies create identities', () => {
  const adminKey = `flk_${randomBytes(18).toString('base64url')}`;
  let dataDir: string;
  let running: StandaloneProcess | null = null;
  let serverKey = '';
  const acknowledged: Identified[] = [];
  /** Answers other than 200, and failures of a caller before the kill (connection errors after it are expected). */
  const refused: string[] = [];

  const identify = (url: string, identity: Identified): Promise<Response> =>
    fetch(`${url}/api/v1/identities/`, {
      method: 'POST',
      headers: { 'x-environment-key': serverKey, 'content-type': 'application/json' },
      body: JSON.stringify({ identifier: identity.identifier, traits: Object.entries(identity.traits).map(([trait_key, trait_value]) => ({ trait_key, trait_value })) }),
    });

  beforeAll(async () => {
    dataDir = await tempDataDir('flagline-identity-crash-');
    running = await startStandaloneProcess({ DATA_DIR: dataDir, ADMIN_API_KEY: adminKey });
    const admin = new ApiClient(running.url, adminKey);
    const organisationId = num(expectStatus(await admin.post(`${ADMIN}/organisations`, { name: 'Crash' }), 201), 'id');
    const projectId = num(expectStatus(await admin.post(`${ADMIN}/projects`, { organisation: organisationId, name: 'Crash' }), 201), 'id');
    const environmentId = num(expectStatus(await admin.post(`${ADMIN}/projects/${projectId}/environments`, { name: 'Production' }), 201), 'id');
    expectStatus(await admin.post(`${ADMIN}/projects/${projectId}/features`, { name: 'banner', initialValue: 'on' }), 201);
    serverKey = str(expectStatus(await admin.post(`${ADMIN}/environments/${environmentId}/api-keys`, { name: 'backend' }), 201), 'key');

    // Sixteen SDK callers, each identifying a new identity at a time until the kill.
    let killed = false;
    const url = running.url;
    const caller = async (worker: number): Promise<void> => {
      for (let index = 0; !killed; index++) {
        const identity: Identified = { identifier: `crash-${worker}-${index}`, traits: { plan: index % 2 === 0 ? 'pro' : 'free', seats: worker * 1000 + index } };
        let answer: Response;
        try {
          answer = await identify(url, identity);
        } catch (error) {
          // The kill drops the connections of the requests under way; before it, no request may fail.
          if (!killed) refused.push(`${identity.identifier}: ${error instanceof Error ? error.message : String(error)}`);
          return;
        }
        // An answer, whatever its status, came from the process before it was killed.
        if (answer.status !== 200) {
          refused.push(`${identity.identifier}: identify answered ${answer.status}: ${await answer.text().catch(() => '')}`);
          return;
        }
        acknowledged.push(identity);
      }
    };
    const callers = Array.from({ length: 16 }, (_, worker) => caller(worker));
    while (acknowledged.length < 600 && refused.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    killed = true;
    await running.kill();
    await Promise.all(callers);
    // Started again with identity reads through a memory map: a second connection to a file whose WAL the kill left to recover.
    running = await startStandaloneProcess({ DATA_DIR: dataDir, ADMIN_API_KEY: adminKey, READ_MODELS_MAPPED_MB: '64' });
  });

  afterAll(async () => {
    await running?.kill();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('before the kill, then every identify was answered 200', () => {
    expect(refused).toEqual([]);
  });

  it('when restarted, then every acknowledged identity is served with its stored traits', async () => {
    const url = (running as StandaloneProcess).url;
    const missing: string[] = [];
    for (const identity of acknowledged) {
      const answer = await fetch(`${url}/api/v1/identities/?identifier=${encodeURIComponent(identity.identifier)}`, { headers: { 'x-environment-key': serverKey } });
      const body = (await answer.json()) as { traits?: { trait_key: string; trait_value: unknown }[] };
      const stored = new Map((body.traits ?? []).map((trait) => [trait.trait_key, trait.trait_value]));
      if (!Object.entries(identity.traits).every(([key, value]) => stored.get(key) === value)) missing.push(identity.identifier);
    }
    expect(acknowledged.length).toBeGreaterThanOrEqual(600);
    expect(missing).toEqual([]);
  });

  it('when restarted, then the Merkle tree catches up with the whole log and signs a head over it', async () => {
    const url = (running as StandaloneProcess).url;
    const admin = new ApiClient(url, adminKey);
    let signedSize: number | undefined;
    for (let attempt = 0; attempt < 200; attempt++) {
      const health = (await (await fetch(`${url}/health`)).json()) as { position: number; transparency: { treeSize: number; checked: boolean; mismatchAt: number | null } };
      expect(health.transparency.mismatchAt).toBeNull();
      if (health.transparency.checked && health.transparency.treeSize === health.position) {
        signedSize = num(expectStatus(await admin.get(`${ADMIN}/transparency/tree-head`), 200), 'treeSize');
        expect(signedSize).toBe(health.position);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(signedSize).toBeGreaterThan(acknowledged.length);
  });
});
