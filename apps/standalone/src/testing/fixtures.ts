import { ADMIN, expectStatus, num, obj, str, type ApiClient, type ApiResponse, type Json, type TestApp } from './http-harness';

/** A segment whose rules exercise several operators (all valid). */
export const SAMPLE_RULES = [
  {
    type: 'ALL',
    conditions: [
      { property: 'plan', operator: 'EQUAL', value: 'pro' },
      { property: 'age', operator: 'GREATER_THAN_INCLUSIVE', value: 18 },
    ],
    rules: [
      {
        type: 'ANY',
        conditions: [
          { property: 'email', operator: 'REGEX', value: '.*@example\\.com$' },
          { property: 'id', operator: 'MODULO', value: '2|0' },
          { operator: 'PERCENTAGE_SPLIT', value: 50 },
          { property: 'version', operator: 'GREATER_THAN', value: '1.2.3:semver' },
          { property: 'country', operator: 'IN', value: ['FR', 'DE'] },
        ],
      },
    ],
  },
] as const;

/** Everything one organisation owns, as the API created it. */
export interface OrganisationSetup {
  readonly organisationId: number;
  readonly projectId: number;
  readonly environmentId: number;
  readonly environmentKey: string;
  readonly secondEnvironmentId: number;
  readonly featureId: number;
  /** A multivariate feature and its first option. */
  readonly mvFeatureId: number;
  readonly optionId: number;
  readonly segmentId: number;
  readonly tagId: number;
  readonly identifier: string;
  readonly serverKeyId: string;
  /** An organisation key with the admin role. */
  readonly orgKey: string;
  readonly orgKeyId: string;
  /** An organisation key with the member role. */
  readonly memberOrgKey: string;
  /** A user that belongs to this organisation only (as admin), and their key. */
  readonly userId: number;
  readonly userKey: string;
  readonly userKeyId: string;
  /** A pending invitation of this organisation, to `<name>-invitee@example.com` (nobody registered with it). */
  readonly invitationId: string;
}

const created = (response: ApiResponse): Json => expectStatus(response, 201);

/**
 * Creates, as the instance administrator, an organisation with a project, two environments, a
 * standard and a multivariate feature, a tag, a segment with a segment override, an identity with
 * traits and an override, a server key, two organisation keys and a user who belongs only here.
 */
export async function setupOrganisation(t: Pick<TestApp, 'admin'>, name: string): Promise<OrganisationSetup> {
  const admin = t.admin;
  const organisationId = num(created(await admin.post(`${ADMIN}/organisations`, { name })), 'id');
  const projectId = num(created(await admin.post(`${ADMIN}/projects`, { organisation: organisationId, name: `${name} project` })), 'id');
  const environment = obj(created(await admin.post(`${ADMIN}/projects/${projectId}/environments`, { name: 'Production' })));
  const environmentId = num(environment, 'id');
  const environmentKey = str(environment, 'apiKey');
  const secondEnvironmentId = num(created(await admin.post(`${ADMIN}/projects/${projectId}/environments`, { name: 'Staging' })), 'id');
  const tagId = num(created(await admin.post(`${ADMIN}/projects/${projectId}/tags`, { label: 'backend' })), 'id');
  const featureId = num(created(await admin.post(`${ADMIN}/projects/${projectId}/features`, { name: 'checkout', tags: [tagId], initialValue: 'v1' })), 'id');
  const mv = obj(
    created(
      await admin.post(`${ADMIN}/projects/${projectId}/features`, {
        name: 'banner_colour',
        initialValue: 'blue',
        multivariateOptions: [
          { value: 'red', key: 'red', defaultPercentageAllocation: 30 },
          { value: 'green', key: 'green', defaultPercentageAllocation: 20 },
        ],
      }),
    ),
  );
  const mvFeatureId = num(mv, 'id');
  const options = mv['multivariateOptions'];
  if (!Array.isArray(options)) throw new Error('multivariate options missing');
  const optionId = num(options[0], 'id');
  const segmentId = num(created(await admin.post(`${ADMIN}/projects/${projectId}/segments`, { name: 'power users', rules: SAMPLE_RULES })), 'id');
  created(await admin.post(`${ADMIN}/environments/${environmentId}/segment-overrides`, { feature: featureId, segment: segmentId, enabled: true, value: 'segment' }));
  const identifier = `${name.toLowerCase()}-user@example.com`;
  created(await admin.post(`${ADMIN}/environments/${environmentId}/identities`, { identifier, traits: { plan: 'pro', age: 42, beta: true } }));
  expectStatus(await admin.put(`${ADMIN}/environments/${environmentId}/identities/${encodeURIComponent(identifier)}/overrides/${featureId}`, { enabled: true, value: 'mine' }), 200);
  const serverKeyId = str(created(await admin.post(`${ADMIN}/environments/${environmentId}/api-keys`, { name: 'backend' })), 'id');
  const orgKeyBody = obj(created(await admin.post(`${ADMIN}/organisations/${organisationId}/api-keys`, { name: 'ci', role: 'admin' })));
  const memberOrgKey = str(created(await admin.post(`${ADMIN}/organisations/${organisationId}/api-keys`, { name: 'reader', role: 'member' })), 'key');
  const userId = num(created(await admin.post(`${ADMIN}/users`, { email: `${name.toLowerCase()}-owner@example.com`, name: `${name} owner` })), 'id');
  created(await admin.post(`${ADMIN}/organisations/${organisationId}/members`, { userId, role: 'admin' }));
  const userKeyBody = obj(created(await admin.post(`${ADMIN}/users/${userId}/api-keys`, { name: 'laptop' })));
  const invitationId = str(created(await admin.post(`${ADMIN}/organisations/${organisationId}/invitations`, { email: `${name.toLowerCase()}-invitee@example.com`, role: 'member' })), 'id');
  return {
    organisationId,
    projectId,
    environmentId,
    environmentKey,
    secondEnvironmentId,
    featureId,
    mvFeatureId,
    optionId,
    segmentId,
    tagId,
    identifier,
    serverKeyId,
    orgKey: str(orgKeyBody, 'key'),
    orgKeyId: str(orgKeyBody, 'id'),
    memberOrgKey,
    userId,
    userKey: str(userKeyBody, 'key'),
    userKeyId: str(userKeyBody, 'id'),
    invitationId,
  };
}

/** A fresh organisation with one project, owned by the administrator. */
export async function setupProject(admin: ApiClient, name: string): Promise<{ organisationId: number; projectId: number }> {
  const organisationId = num(created(await admin.post(`${ADMIN}/organisations`, { name })), 'id');
  const projectId = num(created(await admin.post(`${ADMIN}/projects`, { organisation: organisationId, name: `${name} project` })), 'id');
  return { organisationId, projectId };
}

/** Runs a request and checks it left the event log as it was. */
export async function withoutWrites(t: TestApp, send: () => Promise<ApiResponse>): Promise<{ response: ApiResponse; written: number }> {
  const before = await t.app.store.headPosition();
  const response = await send();
  const after = await t.app.store.headPosition();
  return { response, written: after - before };
}
