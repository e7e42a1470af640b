import { setupOrganisation } from '../../apps/standalone/src/testing/fixtures';
import { ADMIN, expectStatus, num, obj, str, type ApiClient } from '../../apps/standalone/src/testing/http-harness';

/** The ids the fuzzer's path parameters take: one of each entity, all in one organisation. */
export interface FixtureParameters {
  readonly organisationId: number;
  readonly userId: number;
  readonly projectId: number;
  readonly environment: number;
  /** A multivariate feature with an option, a segment override and an identity override. */
  readonly featureId: number;
  readonly optionId: number;
  readonly segmentId: number;
  /** A segment nothing overrides yet, for creating a segment override. */
  readonly spareSegmentId: number;
  readonly tagId: number;
  readonly identifier: string;
  readonly userKeyId: string;
  readonly organisationKeyId: string;
  readonly serverKeyId: string;
  /** A server-side key of the environment, for the SDK API and OFREP. */
  readonly serverKey: string;
  /** A pending invitation of the organisation. */
  readonly invitationId: string;
  /**
   * The name of the environment's standard feature, for OFREP's flag key: no path parameter names
   * that feature, so no PATCH the fuzzer sends renames it.
   */
  readonly flagKey: string;
}

/** Creates an organisation with one of every entity (see `setupOrganisation`) and names them for path parameters. */
export async function fixtureParameters(admin: ApiClient, name: string): Promise<FixtureParameters> {
  const setup = await setupOrganisation({ admin }, name);
  const environment = setup.environmentId;
  // The options belong to the multivariate feature, so it also gets the overrides that path parameters name.
  expectStatus(await admin.post(`${ADMIN}/environments/${environment}/segment-overrides`, { feature: setup.mvFeatureId, segment: setup.segmentId, enabled: true }), 201);
  expectStatus(await admin.put(`${ADMIN}/environments/${environment}/identities/${encodeURIComponent(setup.identifier)}/overrides/${setup.mvFeatureId}`, { enabled: false }), 200);
  const serverKey = obj(expectStatus(await admin.post(`${ADMIN}/environments/${environment}/api-keys`, { name: 'fuzzer' }), 201));
  const spare = { name: 'spare', rules: [{ type: 'ALL', conditions: [{ property: 'plan', operator: 'EQUAL', value: 'free' }] }] };
  const spareSegmentId = num(expectStatus(await admin.post(`${ADMIN}/projects/${setup.projectId}/segments`, spare), 201), 'id');
  const feature = obj(expectStatus(await admin.get(`${ADMIN}/projects/${setup.projectId}/features/${setup.featureId}`), 200));
  return {
    organisationId: setup.organisationId,
    userId: setup.userId,
    projectId: setup.projectId,
    environment,
    featureId: setup.mvFeatureId,
    optionId: setup.optionId,
    segmentId: setup.segmentId,
    spareSegmentId,
    tagId: setup.tagId,
    identifier: setup.identifier,
    userKeyId: setup.userKeyId,
    organisationKeyId: setup.orgKeyId,
    serverKeyId: str(serverKey, 'id'),
    serverKey: str(serverKey, 'key'),
    invitationId: setup.invitationId,
    flagKey: str(feature, 'name'),
  };
}

/** An organisation with nothing in it (one with a project cannot be deleted). */
export async function emptyOrganisation(admin: ApiClient, name: string): Promise<number> {
  return num(expectStatus(await admin.post(`${ADMIN}/organisations`, { name }), 201), 'id');
}

/**
 * A pending invitation of the organisation to a registered user, and that user's key: only the
 * addressee may accept or decline it (anyone else is told it does not exist).
 */
export async function invitee(admin: ApiClient, organisationId: number, name: string): Promise<{ readonly invitationId: string; readonly userKey: string }> {
  const email = `${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}@example.com`;
  const userId = num(expectStatus(await admin.post(`${ADMIN}/users`, { email, name }), 201), 'id');
  const userKey = str(expectStatus(await admin.post(`${ADMIN}/users/${userId}/api-keys`, { name: 'invitee' }), 201), 'key');
  const invitationId = str(expectStatus(await admin.post(`${ADMIN}/organisations/${organisationId}/invitations`, { email, role: 'member' }), 201), 'id');
  return { invitationId, userKey };
}
