import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { ADMIN, ApiClient, listAll, expectStatus, num, obj, str, tempDataDir } from '../testing/http-harness';
import { startStandaloneProcess, type StandaloneProcess } from '../testing/process';

jest.setTimeout(90_000);

interface Acknowledged {
  readonly featureId: number;
  readonly name: string;
  /** Values of the feature's state whose change was acknowledged, in order, and the one in flight at the kill. */
  readonly values: string[];
  inFlight: string | null;
}

/**
 * The standalone app as a process, killed with SIGKILL in the middle of a stream of writes and
 * started again on the same data directory: every write it acknowledged (2xx) is there.
 */
describe('Killing the standalone process mid-writes', () => {
  const adminKey = `flk_${randomBytes(18).toString('base64url')}`;
  let dataDir: string;
  let running: StandaloneProcess | null = null;
  const acknowledged: Acknowledged[] = [];
  let projectId = 0;
  let environmentId = 0;
  let client: ApiClient;

  beforeAll(async () => {
    dataDir = await tempDataDir('flagline-crash-');
    running = await startStandaloneProcess({ DATA_DIR: dataDir, ADMIN_API_KEY: adminKey });
    const admin = new ApiClient(running.url, adminKey);
    const organisationId = num(expectStatus(await admin.post(`${ADMIN}/organisations`, { name: 'Crash' }), 201), 'id');
    projectId = num(expectStatus(await admin.post(`${ADMIN}/projects`, { organisation: organisationId, name: 'Crash' }), 201), 'id');
    environmentId = num(expectStatus(await admin.post(`${ADMIN}/projects/${projectId}/environments`, { name: 'Production' }), 201), 'id');

    // Four writers, each creating a feature then changing its state, one request at a time, until the kill.
    let killed = false;
    const writer = async (worker: number): Promise<void> => {
      for (let index = 0; !killed; index++) {
        const name = `w${worker}_f${index}`;
        try {
          const created = await admin.post(`${ADMIN}/projects/${projectId}/features`, { name, initialValue: 'v0' });
          if (created.status !== 201) throw new Error(`create answered ${created.status}: ${created.text}`);
          const entry: Acknowledged = { featureId: num(created.body, 'id'), name, values: ['v0'], inFlight: null };
          acknowledged.push(entry);
          for (let change = 1; change <= 3 && !killed; change++) {
            entry.inFlight = `v${change}`;
            const changed = await admin.patch(`${ADMIN}/environments/${environmentId}/feature-states/${entry.featureId}`, { value: entry.inFlight, enabled: true });
            if (changed.status !== 200) throw new Error(`change answered ${changed.status}: ${changed.text}`);
            entry.values.push(entry.inFlight);
            entry.inFlight = null;
          }
        } catch (error) {
          if (!killed) throw error;
          return;
        }
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    while (acknowledged.length < 40) await new Promise((resolve) => setTimeout(resolve, 5));
    killed = true;
    await running.kill();
    await Promise.allSettled(writers);
    running = await startStandaloneProcess({ DATA_DIR: dataDir, ADMIN_API_KEY: adminKey });
    client = new ApiClient(running.url, adminKey);
  });

  afterAll(async () => {
    await running?.kill();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('when restarted, then every acknowledged feature is there with its name', async () => {
    const features = (await listAll(client, `${ADMIN}/projects/${projectId}/features`)).map(obj);
    const byId = new Map(features.map((feature) => [num(feature, 'id'), str(feature, 'name')]));
    const missing = acknowledged.filter((entry) => byId.get(entry.featureId) !== entry.name);
    expect(missing).toEqual([]);
    expect(acknowledged.length).toBeGreaterThanOrEqual(40);
  });

  it('when restarted, then every feature state holds its last acknowledged value, or the value in flight at the kill', async () => {
    const states = (await listAll(client, `${ADMIN}/environments/${environmentId}/feature-states`)).map(obj);
    const valueOf = new Map(states.map((state) => [num(state, 'featureId'), state['value']]));
    const wrong = acknowledged.filter((entry) => {
      const value = valueOf.get(entry.featureId);
      return value !== entry.values[entry.values.length - 1] && value !== entry.inFlight;
    });
    expect(wrong).toEqual([]);
  });

  it('when restarted, then every feature that exists has its state in the environment', async () => {
    const features = (await listAll(client, `${ADMIN}/projects/${projectId}/features`)).map((feature) => num(feature, 'id'));
    const states = (await listAll(client, `${ADMIN}/environments/${environmentId}/feature-states`)).map((state) => num(state, 'featureId'));
    expect([...states].sort((x, y) => x - y)).toEqual([...features].sort((x, y) => x - y));
  });

  it('when new writes follow the restart, then they get new ids and do not clash', async () => {
    const known = new Set((await listAll(client, `${ADMIN}/projects/${projectId}/features`)).map((feature) => num(feature, 'id')));
    const created = await client.post(`${ADMIN}/projects/${projectId}/features`, { name: 'after_the_crash' });
    expect(created.status).toBe(201);
    expect(known.has(num(created.body, 'id'))).toBe(false);
    expect(num(created.body, 'id')).toBeGreaterThan(Math.max(...known));
    const environment = await client.post(`${ADMIN}/projects/${projectId}/environments`, { name: 'After' });
    expect(environment.status).toBe(201);
  });
});
