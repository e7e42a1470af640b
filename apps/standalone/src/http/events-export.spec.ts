import { generatedSecret } from '@flagline/observability';
import { canonicalEventBytes, type EventStore, type RecordedEvent } from '@flagline/event-sourcing';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { setupOrganisation, type OrganisationSetup } from '../testing/fixtures';
import { ADMIN, errorFields, expectStatus, num, obj, str, startTestApp, tempDataDir, type ApiClient, type JsonObject, type TestApp } from '../testing/http-harness';

/** A generated admin key: the published example keys are refused, as a deployment's would be. */
const ADMIN_KEY_FOR_THE_SPEC = generatedSecret();

const EXPORT = `${ADMIN}/events/export`;

/** The NDJSON lines of an export, parsed (every line must be complete). */
function lines(text: string): JsonObject[] {
  expect(text === '' || text.endsWith('\n')).toBe(true);
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => obj(JSON.parse(line) as JsonObject));
}

async function exported(client: ApiClient, query = ''): Promise<JsonObject[]> {
  const response = await client.get(`${EXPORT}${query}`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
  return lines(response.text);
}

/** Every stored event of the log, as stored (not upcast). */
async function storedEvents(t: TestApp): Promise<RecordedEvent[]> {
  const log = t.app.admin.context.deps.storedLog as EventStore;
  const events: RecordedEvent[] = [];
  for (let after = 0; ; ) {
    const page = await log.readAll({ after, maxCount: 1000 });
    events.push(...page);
    const last = page[page.length - 1];
    if (!last) return events;
    after = last.globalPosition;
  }
}

const positions = (events: readonly JsonObject[]): number[] => events.map((event) => num(event, 'position'));

// Apps started and driven over HTTP: more than jest's default 5 s on a loaded machine.
jest.setTimeout(60_000);

describe('GET /admin/v1/events/export', () => {
  let t: TestApp;
  let a: OrganisationSetup;
  let b: OrganisationSetup;

  beforeAll(async () => {
    t = await startTestApp();
    a = await setupOrganisation(t, 'alpha');
    b = await setupOrganisation(t, 'beta');
    // A declined invitation: organisation beta's admin must not learn who declined it.
    const outsiderId = num(expectStatus(await t.admin.post(`${ADMIN}/users`, { email: 'outsider@example.com', name: 'Outsider' }), 201), 'id');
    const outsider = t.client(str(expectStatus(await t.admin.post(`${ADMIN}/users/${outsiderId}/api-keys`, { name: 'own' }), 201), 'key'));
    const invitationId = str(expectStatus(await t.client(b.userKey).post(`${ADMIN}/organisations/${b.organisationId}/invitations`, { email: 'outsider@example.com', role: 'member' }), 201), 'id');
    expectStatus(await outsider.post(`${ADMIN}/invitations/${invitationId}/decline`), 200);
  });

  afterAll(() => t.dispose());

  it('when the instance administrator exports, then every stored event comes out exactly as stored, in log order, with the head in a header', async () => {
    const response = await t.admin.get(EXPORT);
    expect(response.status).toBe(200);
    const stored = await storedEvents(t);
    const out = lines(response.text);
    expect(Number(response.headers.get('x-flagline-position'))).toBe(stored[stored.length - 1]?.globalPosition);
    expect(response.headers.get('x-flagline-export-after')).toBe('0');
    expect(positions(out)).toEqual(stored.map((event) => event.globalPosition));
    out.forEach((line, index) => {
      const event = stored[index] as RecordedEvent;
      expect(Object.keys(line).sort()).toEqual(['data', 'id', 'metadata', 'position', 'recordedAt', 'streamName', 'streamRevision', 'type']);
      expect(canonicalEventBytes(line as never).equals(canonicalEventBytes(event))).toBe(true);
    });
  });

  it('when an organisation member exports, then only their organisations’ events and their own user stream come out', async () => {
    const out = await exported(t.client(a.userKey));
    expect(out.length).toBeGreaterThan(10);
    for (const line of out) {
      const stream = str(line, 'streamName');
      const organisationId = obj(line['metadata'])['organisationId'];
      if (stream.startsWith('user-')) expect(stream).toBe(`user-${a.userId}`);
      else if (stream.startsWith('organisation-')) expect(stream).toBe(`organisation-${a.organisationId}`);
      else expect(organisationId).toBe(String(a.organisationId));
      expect(stream.startsWith('sequence-')).toBe(false);
    }
    const text = JSON.stringify(out);
    expect(text).not.toContain('beta project');
    expect(text).not.toContain('beta-owner');
    expect(text).not.toContain(b.environmentKey);
    expect(out.some((line) => line['streamName'] === `user-${a.userId}`)).toBe(true);
    expect(out.some((line) => line['streamName'] === `project-${a.projectId}`)).toBe(true);
    expect(out.some((line) => str(line, 'streamName').startsWith('identity-'))).toBe(true);
    // Identities' personal data comes out sealed, as stored: neither the identifier nor a trait value in clear.
    const identityLines = out.filter((line) => str(line, 'streamName').startsWith('identity-'));
    expect(identityLines.every((line) => typeof obj(obj(line['data'])['sealed'])['ct'] === 'string')).toBe(true);
    expect(JSON.stringify(identityLines)).not.toContain(a.identifier);
    expect(JSON.stringify(identityLines)).not.toContain('"plan"');
    // An organisation key reads its organisation's events, not the users'.
    const byKey = await exported(t.client(a.memberOrgKey));
    expect(byKey.length).toBeGreaterThan(10);
    expect(byKey.every((line) => !str(line, 'streamName').startsWith('user-'))).toBe(true);
    expect(JSON.stringify(byKey)).not.toContain('beta project');
  });

  it('when another organisation’s entity is named, then it is not found, as in its history', async () => {
    const alpha = t.client(a.userKey);
    for (const entity of [`feature:${b.featureId}`, `project:${b.projectId}`, `organisation:${b.organisationId}`, `environment:${b.environmentKey}`, `identity:${b.environmentId}:${b.identifier}`, `user:${b.userId}`, `segment:${b.segmentId}`, `tag:${b.tagId}`]) {
      expectStatus(await alpha.get(`${EXPORT}?entity=${encodeURIComponent(entity)}`), 404);
    }
  });

  it('when the export is filtered by entity, then it holds the events the entity’s history lists', async () => {
    const history = async (path: string): Promise<number[]> => {
      const body = obj(expectStatus(await t.client(a.userKey).get(`${ADMIN}${path}/history?pageSize=500`), 200));
      return positions(body['results'] as JsonObject[]);
    };
    const ids = async (entity: string): Promise<number[]> => positions(await exported(t.client(a.userKey), `?entity=${encodeURIComponent(entity)}`));
    expect(await ids(`feature:${a.featureId}`)).toEqual(await history(`/projects/${a.projectId}/features/${a.featureId}`));
    expect(await ids(`project:${a.projectId}`)).toEqual(await history(`/projects/${a.projectId}`));
    expect(await ids(`environment:${a.environmentKey}`)).toEqual(await history(`/environments/${a.environmentId}`));
    expect(await ids(`identity:${a.environmentId}:${a.identifier}`)).toEqual(await history(`/environments/${a.environmentId}/identities/${encodeURIComponent(a.identifier)}`));
  });

  it('when an export is cut by a limit and resumed after its last line, then the two parts are the whole export', async () => {
    const whole = await exported(t.admin);
    const first = await exported(t.admin, '?limit=7');
    expect(first).toHaveLength(7);
    const rest = await exported(t.admin, `?after=${num(first[6], 'position')}`);
    expect([...positions(first), ...positions(rest)]).toEqual(positions(whole));
  });

  it('when filtered by type, actor and time, then only matching events come out', async () => {
    const created = await exported(t.admin, '?types=FeatureCreated,SegmentCreated');
    expect(new Set(created.map((line) => line['type']))).toEqual(new Set(['FeatureCreated', 'SegmentCreated']));
    expect(created).toHaveLength(6);
    const byOwner = await exported(t.admin, '?actor=bootstrap');
    expect(byOwner.map((line) => line['type'])).toEqual(expect.arrayContaining(['UserRegistered']));
    expect(byOwner.every((line) => obj(obj(line['metadata'])['actor'])['id'] === 'bootstrap')).toBe(true);
    const whole = await exported(t.admin);
    const middle = whole[Math.floor(whole.length / 2)] as JsonObject;
    const at = str(middle, 'recordedAt');
    const from = await exported(t.admin, `?from=${encodeURIComponent(at)}`);
    const to = await exported(t.admin, `?to=${encodeURIComponent(at)}`);
    expect(from.every((line) => str(line, 'recordedAt') >= at)).toBe(true);
    expect(to.every((line) => str(line, 'recordedAt') <= at)).toBe(true);
    expect(from.length + to.length).toBeGreaterThanOrEqual(whole.length);
    expect(from.length).toBeLessThan(whole.length);
  });

  it('when a member of the organisation exports, then the user who declined its invitation is not named, and the line says what was left out', async () => {
    const out = await exported(t.client(b.userKey), '?types=InvitationDeclined');
    expect(out).toHaveLength(1);
    const [line] = out as [JsonObject];
    expect(obj(line['data'])).not.toHaveProperty('userId');
    expect(obj(obj(line['metadata'])['actor'])['id']).toBe('');
    expect(line['redacted']).toEqual(['data.userId', 'metadata.actor.id']);
    const full = (await exported(t.admin, '?types=InvitationDeclined'))[0] as JsonObject;
    expect(typeof obj(full['data'])['userId']).toBe('number');
    expect(full).not.toHaveProperty('redacted');
  });

  it('when CSV is asked for, then it has a header row and one row per event, with formulas escaped', async () => {
    // A correlation id is the caller's text, stored as sent: in a spreadsheet it must not run.
    expectStatus(await t.admin.post(`${ADMIN}/projects/${a.projectId}/features`, { name: 'formula' }, { headers: { 'X-Correlation-Id': '=HYPERLINK("http://evil")' } }), 201);
    const response = await t.admin.get(`${EXPORT}?format=csv&types=FeatureCreated`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
    const rows = response.text.trimEnd().split('\n');
    expect(rows[0]).toBe('position,recordedAt,type,streamName,streamRevision,id,actorKind,actorId,actorName,correlationId,organisationId,projectId,data');
    expect(rows).toHaveLength(1 + 5);
    expect(rows.slice(1).every((row) => /^\d+,[^,]+,FeatureCreated,project-\d+,\d+,/.test(row))).toBe(true);
    expect(rows[5]).toContain(`,"'=HYPERLINK(""http://evil"")",`);
    const empty = await t.admin.get(`${EXPORT}?format=csv&types=FeatureCreated&after=${response.headers.get('x-flagline-position') ?? ''}`);
    expect(empty.text.trimEnd().split('\n')).toHaveLength(1);
  });

  it('when parameters are bad, then one 400 names each of them and without a key it is a 401', async () => {
    const response = await t.admin.get(`${EXPORT}?format=xml&after=-1&from=yesterday&types=FeatureCreated,Nope&entity=planet:1&limit=0&actor=`);
    expect(response.status).toBe(400);
    expect(errorFields(response.body).sort()).toEqual(['actor', 'after', 'entity', 'format', 'from', 'limit', 'types']);
    const reversed = await t.admin.get(`${EXPORT}?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z&replayable=true`);
    expect(errorFields(reversed.body).sort()).toEqual(['replayable', 'to']);
    expect(errorFields((await t.admin.get(`${EXPORT}?after=1&after=2`)).body)).toEqual(['after']);
    expectStatus(await t.client(null).get(EXPORT), 401);
    expectStatus(await t.client('not-a-key-of-this-instance').get(EXPORT), 401);
  });
});

describe('an export of a log written by older code', () => {
  it('when events of an older schema version are exported, then they come out as stored, not upcast', async () => {
    const dataDir = await tempDataDir();
    await cp(join(__dirname, '..', 'sdk', 'fixtures', 'log-2026-12-05', 'events'), join(dataDir, 'events'), { recursive: true });
    const t = await startTestApp({ dataDir, env: { ADMIN_API_KEY: ADMIN_KEY_FOR_THE_SPEC } });
    try {
      const out = await exported(t.admin, '?types=IdentityCreated');
      const upcast = (await t.app.store.readAll({ maxCount: 100_000 })).filter((event) => event.type === 'IdentityCreated');
      expect(out.length).toBe(upcast.length);
      // Version 1 identities were created without traits; the code reads them as version 2.
      const older = out.filter((line) => obj(line['data'])['schemaVersion'] === undefined);
      expect(older.length).toBeGreaterThan(0);
      for (const line of older) {
        const read = upcast.find((event) => event.id === line['id']) as RecordedEvent;
        expect(read.data).toHaveProperty('schemaVersion', 2);
        expect(canonicalEventBytes(line as never).equals(canonicalEventBytes(read))).toBe(false);
      }
    } finally {
      await t.dispose();
    }
  });
});
