import { createHash } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ADMIN, ApiClient, expectStatus, num, obj, startTestApp, tempDataDir, type Json } from '../testing/http-harness';
import { appendIdentities, seedEnvironment, type SeededEnvironment } from '../testing/identity-log';
import { REPOSITORY_ROOT, startStandaloneProcess, type StandaloneProcess } from '../testing/process';

jest.setTimeout(240_000);

const adminKey = 'flk_rebuild_spec_0123456789abcdef';
const LIVE_FILES = ['read-models.sqlite', 'catalog.sqlite'];

interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly output: string;
}

/** `rebuild.ts` as its own process; `onOutput` sees what it writes as it writes it. */
function rebuild(dataDir: string, args: readonly string[] = [], onOutput?: (output: string, child: ChildProcess) => void): Promise<Run> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/standalone/src/rebuild.ts', '--data-dir', dataDir, ...args], {
    cwd: REPOSITORY_ROOT,
    env: { ...process.env, DATA_DIR: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer): void => {
    output += chunk.toString('utf8');
    onOutput?.(output, child);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, output })));
}

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');
const fingerprints = (dataDir: string): Record<string, string> => Object.fromEntries(LIVE_FILES.map((name) => [name, sha256(join(dataDir, name))]));

/** SIGTERM: the app's shutdown hook closes everything (and persists what is pending). */
async function stopGracefully(running: StandaloneProcess): Promise<void> {
  const exited = new Promise<void>((resolve) => running.child.once('exit', () => resolve()));
  running.child.kill('SIGTERM');
  await exited;
}

async function identify(url: string, environment: SeededEnvironment, identifier: string): Promise<Json> {
  const response = await new ApiClient(url, null).get(`/api/v1/identities/?identifier=${encodeURIComponent(identifier)}`, { headers: { 'X-Environment-Key': environment.clientKey } });
  return expectStatus(response, 200);
}

describe('npm run rebuild', () => {
  let dataDir: string;
  let environment: SeededEnvironment;

  beforeAll(async () => {
    dataDir = await tempDataDir('flagline-rebuild-');
    environment = await seedEnvironment(dataDir, adminKey);
    await appendIdentities(dataDir, environment, 6_000);
    const app = await startTestApp({ dataDir, env: { ADMIN_API_KEY: adminKey } });
    await app.stop();
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('with --verify, finds the live files equal to a rebuild from the log, and changes nothing', async () => {
    const before = fingerprints(dataDir);
    const run = await rebuild(dataDir, ['--verify']);
    expect(run.output).toMatch(/read-models\.sqlite equals a rebuild from the log/);
    expect(run.output).toMatch(/catalog\.sqlite equals a rebuild from the log/);
    expect(run.output).toMatch(/\d+ events\/s/);
    expect(run.code).toBe(0);
    expect(fingerprints(dataDir)).toEqual(before);
  });

  it('with --verify, names the first key where a live file differs, with exit code 1', async () => {
    const path = join(dataDir, 'read-models.sqlite');
    const key = `identity:${environment.environmentId}:user-1500`;
    const db = new Database(path);
    const original = (db.prepare('SELECT value FROM documents WHERE key = ?').get(key) as { value: string }).value;
    db.prepare('UPDATE documents SET value = ? WHERE key = ?').run(original.replace('"pro"', '"free"').replace('"free"', '"tampered"'), key);
    db.close();
    try {
      const run = await rebuild(dataDir, ['--verify']);
      expect(run.code).toBe(1);
      expect(run.output).toContain(`read-models.sqlite differs from a rebuild: table documents, key "${key}"`);
    } finally {
      const restore = new Database(path);
      restore.prepare('UPDATE documents SET value = ? WHERE key = ?').run(original, key);
      restore.close();
    }
  });

  it('refuses to run while the app holds the data directory', async () => {
    const running = await startStandaloneProcess({ DATA_DIR: dataDir, ADMIN_API_KEY: adminKey });
    try {
      const run = await rebuild(dataDir);
      expect(run.code).toBe(2);
      expect(run.output).toMatch(/the app is running on .*stop it first/);
    } finally {
      await stopGracefully(running);
    }
  });

  it('when killed with SIGKILL mid-rebuild, leaves the live files untouched; the next rebuild swaps in files the app resumes from', async () => {
    const before = fingerprints(dataDir);
    // Killed once the fresh file holds some batches (each batch is persisted), before the swap.
    const fresh = join(dataDir, 'read-models.sqlite.rebuild');
    let watcher: NodeJS.Timeout | undefined;
    const killed = await rebuild(dataDir, ['--batch-events', '100'], (_output, child) => {
      watcher ??= setInterval(() => {
        if (existsSync(fresh) && statSync(fresh).size > 256 * 1024 && child.exitCode === null) child.kill('SIGKILL');
      }, 1);
    });
    clearInterval(watcher);
    expect(killed.signal).toBe('SIGKILL');
    expect(killed.output).not.toMatch(/swapped in/);
    expect(fingerprints(dataDir)).toEqual(before);

    const run = await rebuild(dataDir);
    expect(run.code).toBe(0);
    expect(run.output).toMatch(/swapped in: read-models\.sqlite, catalog\.sqlite/);
    expect(existsSync(join(dataDir, 'read-models.sqlite.rebuild'))).toBe(false);
    const app = await startTestApp({ dataDir, env: { ADMIN_API_KEY: adminKey } });
    try {
      expect(app.app.projectedSinceStart()).toBe(0);
      const traits = obj(await identify(app.app.url, environment, 'user-1999'))['traits'];
      expect(traits).toEqual(expect.arrayContaining([expect.objectContaining({ trait_key: 'age', trait_value: 1999 % 90 })]));
    } finally {
      await app.stop();
    }
    expect((await rebuild(dataDir, ['--verify'])).code).toBe(0);
  });

  it('after a SIGKILL of the app during a stream of writes, a restart serves every acknowledged write and equals a rebuild from the log', async () => {
    let running = await startStandaloneProcess({ DATA_DIR: dataDir, ADMIN_API_KEY: adminKey });
    const sdk = new ApiClient(running.url, null);
    const admin = new ApiClient(running.url, adminKey);
    const acknowledged: string[] = [];
    const toggled: number[] = [];
    let killed = false;
    const identifyWriter = async (worker: number): Promise<void> => {
      for (let index = 0; !killed; index++) {
        const identifier = `crash-${worker}-${index}`;
        try {
          const response = await sdk.post('/api/v1/identities/', { identifier, traits: [{ trait_key: 'n', trait_value: index }] }, { headers: { 'X-Environment-Key': environment.clientKey } });
          if (response.status === 200) acknowledged.push(identifier);
        } catch {
          return;
        }
      }
    };
    const featureWriter = async (): Promise<void> => {
      for (let index = 0; !killed; index++) {
        try {
          const created = await admin.post(`${ADMIN}/projects/${environment.projectId}/features`, { name: `crash_feature_${index}` });
          if (created.status === 201) toggled.push(num(created.body, 'id'));
        } catch {
          return;
        }
      }
    };
    const writers = [0, 1, 2, 3].map(identifyWriter).concat(featureWriter());
    while (acknowledged.length < 150 || toggled.length < 5) await new Promise((resolve) => setTimeout(resolve, 5));
    killed = true;
    await running.kill();
    await Promise.allSettled(writers);

    running = await startStandaloneProcess({ DATA_DIR: dataDir, ADMIN_API_KEY: adminKey });
    try {
      const missing: string[] = [];
      for (const identifier of acknowledged) {
        const answer = obj(await identify(running.url, environment, identifier));
        if (!Array.isArray(answer['traits']) || answer['traits'].length !== 1) missing.push(identifier);
      }
      expect(missing).toEqual([]);
      const flags = await new ApiClient(running.url, null).get('/api/v1/flags/', { headers: { 'X-Environment-Key': environment.clientKey } });
      const served = new Set((expectStatus(flags, 200) as Json[]).map((flag) => num(obj(obj(flag)['feature']), 'id')));
      expect(toggled.filter((id) => !served.has(id))).toEqual([]);
    } finally {
      await stopGracefully(running);
    }
    const verify = await rebuild(dataDir, ['--verify']);
    expect(verify.output).toMatch(/read-models\.sqlite equals a rebuild from the log/);
    expect(verify.output).toMatch(/catalog\.sqlite equals a rebuild from the log/);
    expect(verify.code).toBe(0);
  });
});
