import { canonicalEventBytes, type CanonicalEventFields } from '@flagline/event-sourcing';
import { copyFile, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setupOrganisation, type OrganisationSetup } from '../testing/fixtures';
import { ADMIN, expectStatus, listAll, num, obj, str, startTestApp, tempDataDir, type ApiClient, type ApiResponse, type Json, type TestApp } from '../testing/http-harness';
import { exportToFile, type ExportOptions } from './export-events';
import { importEvents } from './import-events';

const created = async (response: Promise<ApiResponse>): Promise<Json> => expectStatus(await response, 201);
const ok = async (response: Promise<ApiResponse>): Promise<Json> => expectStatus(await response, 200);

/** Builds the rest of a project on top of the shared fixture: overrides in order, multivariate weights, identities, a deleted feature. */
async function buildProject(t: TestApp, s: OrganisationSetup): Promise<{ serverKey: string; identifiers: string[] }> {
  const admin = t.admin;
  const p = `${ADMIN}/projects/${s.projectId}`;
  const e = `${ADMIN}/environments/${s.environmentId}`;
  const beta = num(await created(admin.post(`${p}/segments`, { name: 'beta testers', rules: [{ type: 'ALL', conditions: [{ property: 'beta', operator: 'EQUAL', value: 'true' }] }] })), 'id');
  await created(admin.post(`${e}/segment-overrides`, { feature: s.featureId, segment: beta, enabled: true, value: 'beta' }));
  await ok(admin.put(`${e}/features/${s.featureId}/segment-override-order`, { segmentIds: [beta, s.segmentId] }));
  await ok(admin.patch(`${e}/feature-states/${s.mvFeatureId}`, { enabled: true, multivariateAllocations: [{ optionId: s.optionId, percentage: 60 }] }));
  await ok(admin.patch(`${ADMIN}/environments/${s.secondEnvironmentId}/feature-states/${s.featureId}`, { enabled: true, value: 'staging' }));
  const doomed = num(await created(admin.post(`${p}/features`, { name: 'doomed', initialValue: 'x' })), 'id');
  expectStatus(await admin.delete(`${p}/features/${doomed}`), 204);
  await ok(admin.patch(`${p}/features/${s.featureId}`, { description: 'The checkout button' }));
  await created(admin.post(`${e}/identities`, { identifier: 'grace', traits: { beta: true, score: 5.5 } }));
  await ok(admin.put(`${e}/identities/grace/overrides/${s.mvFeatureId}`, { enabled: true, value: 'gold' }));
  await ok(admin.patch(`${e}/identities/${encodeURIComponent(s.identifier)}/traits`, { traits: { plan: 'enterprise', age: null } }));
  const serverKey = str(await created(admin.post(`${e}/api-keys`, { name: 'replay check' })), 'key');
  return { serverKey, identifiers: [s.identifier, 'grace', 'nobody-yet'] };
}

/** Every admin read of the project and its organisation, and what SDKs are served, keyed by route. */
async function reads(client: ApiClient, s: OrganisationSetup, sdk: { serverKey: string; identifiers: readonly string[] }): Promise<Record<string, Json>> {
  const out: Record<string, Json> = {};
  const get = async (path: string): Promise<Json> => (out[path] = await ok(client.get(path)));
  const list = async (path: string): Promise<Json[]> => (out[path] = await listAll(client, path));
  const p = `${ADMIN}/projects/${s.projectId}`;
  await get(`${ADMIN}/organisations/${s.organisationId}`);
  await list(`${ADMIN}/organisations/${s.organisationId}/members`);
  await list(`${ADMIN}/organisations/${s.organisationId}/api-keys`);
  await get(p);
  await list(`${p}/tags`);
  for (const feature of await list(`${p}/features`)) await get(`${p}/features/${num(feature, 'id')}`);
  for (const segment of await list(`${p}/segments`)) await get(`${p}/segments/${num(segment, 'id')}`);
  for (const environment of await list(`${p}/environments`)) {
    const e = `${ADMIN}/environments/${num(environment, 'id')}`;
    await get(e);
    await list(`${e}/feature-states`);
    await list(`${e}/segment-overrides`);
    await list(`${e}/api-keys`);
    for (const identity of await list(`${e}/identities`)) await get(`${e}/identities/${encodeURIComponent(str(identity, 'identifier'))}`);
  }
  await get(`${p}/history?pageSize=500`);
  // What SDKs are served.
  const sdkGet = async (path: string, key: string): Promise<void> => {
    const response = await fetch(`${client.baseUrl}${path}`, { headers: { 'X-Environment-Key': key } });
    expect(response.status).toBe(200);
    out[`${path} (${key.slice(0, 4)})`] = (await response.json()) as Json;
  };
  await sdkGet('/api/v1/environment-document/', sdk.serverKey);
  await sdkGet('/api/v1/flags/', s.environmentKey);
  for (const identifier of sdk.identifiers) await sdkGet(`/api/v1/identities/?identifier=${encodeURIComponent(identifier)}&transient=true`, s.environmentKey);
  return out;
}

/** What a data directory holds besides its log that is derived from the log (rebuilt by any start) or local to it. */
const DERIVED = /^(events|catalog\.sqlite|read-models\.sqlite|transparency\.sqlite|analytics\.json|admin-api-key)/;

/**
 * Copies the instance's secrets kept outside the log by design (the keys sealing identities'
 * personal data): an export alone never reads it, so a replica needs them to read it too.
 */
async function copySecrets(from: string, to: string): Promise<string[]> {
  const copied: string[] = [];
  for (const entry of await readdir(from, { withFileTypes: true })) {
    if (!entry.isFile() || DERIVED.test(entry.name)) continue;
    await copyFile(join(from, entry.name), join(to, entry.name));
    copied.push(entry.name);
  }
  return copied;
}

// Apps started and driven over HTTP: more than jest's default 5 s on a loaded machine.
jest.setTimeout(60_000);

describe('an export of a whole project replayed into an empty instance', () => {
  let source: TestApp;
  let replica: TestApp | null = null;
  let s: OrganisationSetup;
  let sdk: { serverKey: string; identifiers: string[] };
  let dir: string;

  beforeAll(async () => {
    source = await startTestApp();
    await setupOrganisation(source, 'Elsewhere');
    s = await setupOrganisation(source, 'Replayed');
    sdk = await buildProject(source, s);
    await setupOrganisation(source, 'After');
    dir = await tempDataDir('flagline-replay-');
  });

  afterAll(async () => {
    await replica?.dispose();
    await source.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  const options = (out: string, extra: Partial<ExportOptions> = {}): ExportOptions => ({
    url: source.app.url,
    key: source.adminKey,
    out,
    format: 'ndjson',
    query: { entity: `project:${s.projectId}` },
    replayable: true,
    resume: false,
    ...extra,
  });

  it('when the export is interrupted and resumed, then the file equals one exported in one go', async () => {
    const whole = join(dir, 'whole.ndjson');
    const outcome = await exportToFile(options(whole));
    expect(outcome.records).toBeGreaterThan(30);
    const parts = join(dir, 'parts.ndjson');
    const first = await exportToFile(options(parts, { query: { entity: `project:${s.projectId}`, limit: '10' } }));
    expect(first.records).toBe(10);
    // A cut-off record at the end, as a dropped connection leaves it.
    const { appendFile } = await import('node:fs/promises');
    await appendFile(parts, '{"position":99999,"id":"cut');
    await expect(exportToFile(options(parts))).rejects.toThrow(/exists and is not empty/);
    const rest = await exportToFile(options(parts, { resume: true }));
    expect(first.records + rest.records).toBe(outcome.records);
    expect(await readFile(parts, 'utf8')).toBe(await readFile(whole, 'utf8'));
  });

  it('when it is imported into a fresh data directory, then the new instance answers every read of the project as the first does', async () => {
    const file = join(dir, 'whole.ndjson');
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n').map((line) => JSON.parse(line) as CanonicalEventFields & { position: number });
    const streams = new Set(lines.map((line) => line.streamName));
    expect(streams).toContain(`project-${s.projectId}`);
    expect(streams).toContain(`organisation-${s.organisationId}`);
    expect([...streams].some((stream) => stream.startsWith('identity-'))).toBe(true);
    expect(JSON.stringify(lines)).not.toContain('Elsewhere project');

    const replicaDir = join(dir, 'replica');
    // Identity streams are named with the source's keyed ids: the import wants the source's derivation beside them.
    await mkdir(replicaDir);
    await copyFile(join(source.dataDir, 'identity-id-key'), join(replicaDir, 'identity-id-key'));
    const imported = await importEvents(replicaDir, file);
    expect(imported.events).toBe(lines.length);
    await expect(importEvents(replicaDir, file)).rejects.toThrow(/already holds events/);

    // The source's answers, then the source stopped so that its secrets are copied whole.
    const expected = await reads(source.admin, s, sdk);
    await source.stop();
    await copySecrets(source.dataDir, replicaDir);
    replica = await startTestApp({ dataDir: replicaDir, env: { ADMIN_API_KEY: source.adminKey } });
    // The replica stores the same events: the same canonical bytes, so the same Merkle leaves.
    const replicaExport = join(dir, 'replica.ndjson');
    await exportToFile({ ...options(replicaExport), url: replica.app.url, key: replica.adminKey });
    const again = (await readFile(replicaExport, 'utf8')).trimEnd().split('\n').map((line) => JSON.parse(line) as CanonicalEventFields);
    expect(again.map((event) => canonicalEventBytes(event).toString('hex'))).toEqual(lines.map((event) => canonicalEventBytes(event).toString('hex')));

    const actual = await reads(replica.admin, s, sdk);
    // History entries carry log positions, which are the replica's own (dense in its log).
    const positionless = (value: Json): Json => JSON.parse(JSON.stringify(value, (key, inner: unknown) => (key === 'position' ? undefined : inner))) as Json;
    const historyPath = `${ADMIN}/projects/${s.projectId}/history?pageSize=500`;
    expect(positionless(actual[historyPath] as Json)).toEqual(positionless(expected[historyPath] as Json));
    delete actual[historyPath];
    delete expected[historyPath];
    expect(Object.keys(actual)).toEqual(Object.keys(expected));
    for (const path of Object.keys(expected)) expect({ path, body: actual[path] }).toEqual({ path, body: expected[path] });
    expect(Object.keys(expected).length).toBeGreaterThan(25);

    // The id sequence came along: a new entity in the replica takes an id nobody holds.
    const feature = obj(await created(replica.admin.post(`${ADMIN}/projects/${s.projectId}/features`, { name: 'after_replay' })));
    const ids: number[] = [];
    JSON.stringify(expected, (key, inner: unknown) => (key === 'id' && typeof inner === 'number' && ids.push(inner), inner));
    expect(num(feature, 'id')).toBeGreaterThan(Math.max(...ids));
  });
});
