import { setupOrganisation } from '../../apps/standalone/src/testing/fixtures';
import { ADMIN, expectStatus, obj, str, type ApiClient } from '../../apps/standalone/src/testing/http-harness';

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
  readonly tagId: number;
  readonly identifier: string;
  readonly userKeyId: string;
  readonly organisationKeyId: string;
  readonly serverKeyId: string;
  /** A server-side key of the environment, for the SDK API and OFREP. */
  readonly serverKey: string;
}

/** Creates an organisation with one of every entity (see `setupOrganisation`) and names them for path parameters. */
export async function fixtureParameters(admin: ApiClient, name: string): Promise<FixtureParameters> {
  const setup = await setupOrganisation({ admin }, name);
  const environment = setup.environmentId;
  // The options belong to the multivariate feature, so it also gets the overrides that path parameters name.
  expectStatus(await admin.post(`${ADMIN}/environments/${environment}/segment-overrides`, { feature: setup.mvFeatureId, segment: setup.segmentId, enabled: true }), 201);
  expectStatus(await admin.put(`${ADMIN}/environments/${environment}/identities/${encodeURIComponent(setup.identifier)}/overrides/${setup.mvFeatureId}`, { enabled: false }), 200);
  const serverKey = obj(expectStatus(await admin.post(`${ADMIN}/environments/${environment}/api-keys`, { name: 'fuzzer' }), 201));
  return {
    organisationId: setup.organisationId,
    userId: setup.userId,
    projectId: setup.projectId,
    environment,
    featureId: setup.mvFeatureId,
    optionId: setup.optionId,
    segmentId: setup.segmentId,
    tagId: setup.tagId,
    identifier: setup.identifier,
    userKeyId: setup.userKeyId,
    organisationKeyId: setup.orgKeyId,
    serverKeyId: str(serverKey, 'id'),
    serverKey: str(serverKey, 'key'),
  };
}
