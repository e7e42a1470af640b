import { ADMIN, arr, expectStatus, listAll, num, obj, str, type ApiClient, type ApiResponse, type Json, type JsonObject, type TestApp } from './http-harness';
import { setupOrganisation, type OrganisationSetup } from './fixtures';

/**
 * A log holding every event type, written through the public API, and what the app serves from
 * it. The log is committed as a fixture (`sdk/fixtures/log-2026-12-05`) with the answers the code
 * of that day gave; every later version of the code must read the same log and give the same
 * answers (`golden-log.spec.ts`). Regenerate only to add event types, never to hide a change.
 */

/** Ids and keys the answers are read back with. */
export interface GoldenSetup {
  readonly organisation: OrganisationSetup;
  /** Environments still alive at the end, with a client and a server key each. */
  readonly environments: readonly { readonly id: number; readonly clientKey: string; readonly serverKey: string }[];
  /** Identities to identify in each environment (by identifier). */
  readonly identifiers: readonly string[];
}

const created = (response: ApiResponse): Json => expectStatus(response, 201);
const ok = (response: ApiResponse): Json => expectStatus(response, 200);
const gone = (response: ApiResponse): Json => expectStatus(response, 204);

/** Drives the API until the log holds every event type the code writes. */
export async function writeGoldenLog(t: Pick<TestApp, 'admin' | 'client'>): Promise<GoldenSetup> {
  const admin = t.admin;
  const s = await setupOrganisation(t, 'Golden');
  const p = `${ADMIN}/projects/${s.projectId}`;
  const e = `${ADMIN}/environments/${s.environmentId}`;

  // Organisation, members, keys, invitations.
  ok(await admin.patch(`${ADMIN}/organisations/${s.organisationId}`, { name: 'Golden Ltd' }));
  const memberId = num(created(await admin.post(`${ADMIN}/users`, { email: 'golden-member@example.com', name: 'Member' })), 'id');
  created(await admin.post(`${ADMIN}/organisations/${s.organisationId}/members`, { userId: memberId, role: 'member' }));
  ok(await admin.patch(`${ADMIN}/organisations/${s.organisationId}/members/${memberId}`, { role: 'admin' }));
  gone(await admin.delete(`${ADMIN}/organisations/${s.organisationId}/members/${memberId}`));
  gone(await admin.delete(`${ADMIN}/organisations/${s.organisationId}/api-keys/${s.orgKeyId}`));
  gone(await admin.delete(`${ADMIN}/organisations/${s.organisationId}/invitations/${s.invitationId}`));
  const inviteeId = num(created(await admin.post(`${ADMIN}/users`, { email: 'golden-invitee@example.com', name: 'Invitee' })), 'id');
  const inviteeKey = str(created(await admin.post(`${ADMIN}/users/${inviteeId}/api-keys`, { name: 'laptop' })), 'key');
  const accepted = str(created(await admin.post(`${ADMIN}/organisations/${s.organisationId}/invitations`, { email: 'golden-invitee@example.com', role: 'member' })), 'id');
  ok(await t.client(inviteeKey).post(`${ADMIN}/invitations/${accepted}/accept`));
  const declinerId = num(created(await admin.post(`${ADMIN}/users`, { email: 'golden-decliner@example.com', name: 'Decliner' })), 'id');
  const declinerKey = str(created(await admin.post(`${ADMIN}/users/${declinerId}/api-keys`, { name: 'phone' })), 'key');
  const declined = str(created(await admin.post(`${ADMIN}/organisations/${s.organisationId}/invitations`, { email: 'golden-decliner@example.com', role: 'member' })), 'id');
  await expectOneOf(t.client(declinerKey).post(`${ADMIN}/invitations/${declined}/decline`), [200, 204]);

  // Users.
  ok(await admin.patch(`${ADMIN}/users/${s.userId}`, { name: 'Golden owner, renamed' }));
  gone(await admin.delete(`${ADMIN}/users/${s.userId}/api-keys/${s.userKeyId}`));
  gone(await admin.delete(`${ADMIN}/users/${declinerId}`));
  const doomedOrganisation = num(created(await admin.post(`${ADMIN}/organisations`, { name: 'Short-lived' })), 'id');
  gone(await admin.delete(`${ADMIN}/organisations/${doomedOrganisation}`));

  // Project and tags.
  ok(await admin.patch(p, { name: 'Golden project (renamed)', hideDisabledFlags: false }));
  const doomedProject = num(created(await admin.post(`${ADMIN}/projects`, { organisation: s.organisationId, name: 'Short-lived project' })), 'id');
  gone(await admin.delete(`${ADMIN}/projects/${doomedProject}`));
  ok(await admin.patch(`${p}/tags/${s.tagId}`, { label: 'backend-team', color: '#3d4db6', description: 'Owned by the backend team' }));
  const doomedTag = num(created(await admin.post(`${p}/tags`, { label: 'temporary' })), 'id');
  gone(await admin.delete(`${p}/tags/${doomedTag}`));

  // Features and multivariate options.
  const f = `${p}/features/${s.featureId}`;
  ok(await admin.patch(f, { name: 'checkout_v2' }));
  ok(await admin.patch(f, { description: 'The new checkout' }));
  ok(await admin.patch(f, { tags: [] }));
  ok(await admin.patch(f, { defaultEnabled: true, initialValue: 'v2' }));
  const archived = num(created(await admin.post(`${p}/features`, { name: 'old_banner', defaultEnabled: true, initialValue: 7 })), 'id');
  ok(await admin.patch(`${p}/features/${archived}`, { isArchived: true }));
  ok(await admin.patch(`${p}/features/${archived}`, { isArchived: false }));
  const secret = num(created(await admin.post(`${p}/features`, { name: 'server_only', isServerKeyOnly: true, initialValue: true })), 'id');
  ok(await admin.patch(`${p}/features/${secret}`, { isServerKeyOnly: false }));
  ok(await admin.patch(`${p}/features/${secret}`, { isServerKeyOnly: true, initialValue: false }));
  const doomedFeature = num(created(await admin.post(`${p}/features`, { name: 'short_lived' })), 'id');
  gone(await admin.delete(`${p}/features/${doomedFeature}`));
  const mv = `${p}/features/${s.mvFeatureId}/multivariate-options`;
  const withAdded = obj(created(await admin.post(mv, { value: 'yellow', key: 'yellow', defaultPercentageAllocation: 10 })));
  const added = num(
    arr(withAdded['multivariateOptions']).find((option) => obj(option)['key'] === 'yellow'),
    'id',
  );
  ok(await admin.patch(`${mv}/${s.optionId}`, { value: 'crimson', defaultPercentageAllocation: 25 }));
  gone(await admin.delete(`${mv}/${added}`));

  // Segments, including one that depends on a flag.
  const seg = `${p}/segments/${s.segmentId}`;
  ok(await admin.patch(seg, { name: 'power users (renamed)' }));
  ok(await admin.patch(seg, { description: 'Paying customers over 18' }));
  ok(await admin.patch(seg, { rules: [{ type: 'ALL', conditions: [{ property: 'plan', operator: 'EQUAL', value: 'pro' }], rules: [] }] }));
  const beta = num(created(await admin.post(`${p}/segments`, { name: 'beta', rules: [{ type: 'ANY', conditions: [{ property: 'beta', operator: 'EQUAL', value: 'true' }, { property: 'score', operator: 'LESS_THAN', value: '5.5' }], rules: [] }] })), 'id');
  const doomedSegment = num(created(await admin.post(`${p}/segments`, { name: 'short-lived', rules: [] })), 'id');
  gone(await admin.delete(`${p}/segments/${doomedSegment}`));

  // Environments and keys.
  ok(await admin.patch(e, { name: 'Production (EU)' }));
  ok(await admin.patch(e, { useIdentityOverridesInLocalEval: false, hideDisabledFlags: false }));
  const staging = obj(created(await admin.post(`${e}/clone`, { name: 'Production copy' })));
  const stagingId = num(staging, 'id');
  gone(await admin.delete(`${ADMIN}/environments/${s.secondEnvironmentId}`));
  const revoked = str(created(await admin.post(`${e}/api-keys`, { name: 'rotated' })), 'id');
  gone(await admin.delete(`${e}/api-keys/${revoked}`));

  // Feature states and segment overrides in priority order.
  ok(await admin.patch(`${e}/feature-states/${s.featureId}`, { enabled: true, value: 'v3' }));
  ok(await admin.patch(`${e}/feature-states/${s.mvFeatureId}`, { enabled: true, multivariateAllocations: [{ optionId: s.optionId, percentage: 40 }] }));
  created(await admin.post(`${e}/segment-overrides`, { feature: s.featureId, segment: beta, enabled: false, value: 'beta' }));
  ok(await admin.patch(`${e}/segment-overrides/${s.featureId}/${beta}`, { enabled: true, value: 'beta-on' }));
  ok(await admin.put(`${e}/features/${s.featureId}/segment-override-order`, { segmentIds: [beta, s.segmentId] }));
  created(await admin.post(`${e}/segment-overrides`, { feature: s.mvFeatureId, segment: beta, enabled: true }));
  gone(await admin.delete(`${e}/segment-overrides/${s.mvFeatureId}/${beta}`));

  // Identities: admin-made and SDK-made (a float trait written 5.0 keeps its type).
  const identities = `${e}/identities`;
  const who = encodeURIComponent(s.identifier);
  ok(await admin.patch(`${identities}/${who}/traits`, { traits: { plan: 'enterprise', age: null, score: 4.5 } }));
  ok(await admin.put(`${identities}/${who}/traits`, { traits: { plan: 'pro', beta: true } }));
  ok(await admin.put(`${identities}/${who}/overrides/${s.mvFeatureId}`, { enabled: true, value: 'green' }));
  gone(await admin.delete(`${identities}/${who}/overrides/${s.mvFeatureId}`));
  created(await admin.post(identities, { identifier: 'leaver', traits: { plan: 'free' } }));
  gone(await admin.delete(`${identities}/leaver`));
  const serverKey = str(created(await admin.post(`${e}/api-keys`, { name: 'sdk' })), 'key');
  const sdk = t.client(null);
  ok(
    await sdk.post('/api/v1/identities/', undefined, {
      headers: { 'x-environment-key': serverKey },
      raw: '{"identifier":"sdk-golden","traits":[{"trait_key":"score","trait_value":5.0},{"trait_key":"age","trait_value":21},{"trait_key":"beta","trait_value":true}]}',
    }),
  );
  const stagingServerKey = str(created(await admin.post(`${ADMIN}/environments/${stagingId}/api-keys`, { name: 'sdk' })), 'key');
  return {
    organisation: s,
    environments: [
      { id: s.environmentId, clientKey: s.environmentKey, serverKey },
      { id: stagingId, clientKey: str(staging, 'apiKey'), serverKey: stagingServerKey },
    ],
    identifiers: [s.identifier, 'sdk-golden', 'nobody-yet'],
  };
}

async function expectOneOf(pending: Promise<ApiResponse>, statuses: readonly number[]): Promise<void> {
  const response = await pending;
  if (!statuses.includes(response.status)) throw new Error(`Expected one of ${statuses.join(', ')}, got ${response.status}: ${response.text}`);
}

/** What the app serves from the log: SDK answers and admin views, in a stable order. */
export async function captureGoldenState(t: Pick<TestApp, 'admin' | 'client'>, setup: GoldenSetup): Promise<JsonObject> {
  const admin = t.admin;
  const s = setup.organisation;
  const p = `${ADMIN}/projects/${s.projectId}`;
  const out: JsonObject = {};
  const read = async (client: ApiClient, path: string, headers?: Record<string, string>): Promise<Json> => {
    const response = await client.get(path, headers ? { headers } : {});
    return { status: response.status, body: response.body };
  };
  out['organisation'] = await read(admin, `${ADMIN}/organisations/${s.organisationId}`);
  out['members'] = await listAll(admin, `${ADMIN}/organisations/${s.organisationId}/members`);
  out['invitations'] = await listAll(admin, `${ADMIN}/organisations/${s.organisationId}/invitations`);
  out['user'] = await read(admin, `${ADMIN}/users/${s.userId}`);
  out['project'] = await read(admin, p);
  out['tags'] = await listAll(admin, `${p}/tags`);
  out['features'] = await listAll(admin, `${p}/features`);
  out['segments'] = await listAll(admin, `${p}/segments`);
  out['environments'] = await listAll(admin, `${p}/environments`);
  out['projectHistory'] = (await listAll(admin, `${p}/history`)).map((event) => [event['type'] ?? null, event['position'] ?? null]);
  const sdk = t.client(null);
  for (const environment of setup.environments) {
    const e = `${ADMIN}/environments/${environment.id}`;
    const at: JsonObject = {};
    at['featureStates'] = await listAll(admin, `${e}/feature-states`);
    at['segmentOverrides'] = await listAll(admin, `${e}/segment-overrides`);
    at['identities'] = await listAll(admin, `${e}/identities`);
    at['environmentDocument'] = await read(sdk, '/api/v1/environment-document/', { 'x-environment-key': environment.serverKey });
    at['flags'] = await read(sdk, '/api/v1/flags/', { 'x-environment-key': environment.clientKey });
    for (const identifier of setup.identifiers) {
      // A GET identify sends no traits: it reads what is stored and writes nothing for a stored identity.
      at[`identify:${identifier}`] = await read(sdk, `/api/v1/identities/?identifier=${encodeURIComponent(identifier)}&transient=true`, {
        'x-environment-key': environment.serverKey,
      });
    }
    out[`environment:${environment.id}`] = at;
  }
  return out;
}
