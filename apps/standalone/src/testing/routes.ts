import type { OrganisationSetup } from './fixtures';
import { ADMIN, type Method } from './http-harness';

/** One admin route applied to an organisation's resources. */
export interface Route {
  readonly method: Method;
  readonly path: (s: OrganisationSetup) => string;
  readonly body?: (s: OrganisationSetup, other: OrganisationSetup) => unknown;
  /** A POST that reads only (explained evaluation): every field of its body is optional, so an empty body asks for the defaults. */
  readonly readOnly?: boolean;
}

/** Routes that do not address one organisation's resources (so the isolation table leaves them out). */
export const GLOBAL_OPERATIONS: readonly string[] = [
  'POST /admin/v1/users',
  'GET /admin/v1/users/me',
  'GET /admin/v1/users/me/invitations',
  'POST /admin/v1/organisations',
  'GET /admin/v1/organisations',
  'GET /admin/v1/events/export',
  // The log's tree: sizes and hashes for any caller; an inclusion proof names its event in the query, and
  // another organisation's is not found (transparency.spec.ts).
  'GET /admin/v1/transparency/tree-head',
  'GET /admin/v1/transparency/public-key',
  'GET /admin/v1/transparency/proofs/inclusion',
  'GET /admin/v1/transparency/proofs/consistency',
];

/** The OpenAPI template of a route of the isolation table (`/projects/:projectId` → `/admin/v1/projects/{projectId}`). */
export function templateOf(method: Method, path: string): string {
  const names: Record<string, string> = {
    environmentKey: 'environment',
    environmentId: 'environment',
    secondEnvironmentId: 'environment',
    mvFeatureId: 'featureId',
    serverKeyId: 'keyId',
    orgKeyId: 'keyId',
    userKeyId: 'keyId',
  };
  const template = decodeURIComponent(path.split('?')[0] as string).replace(/:(\w+)/g, (_match, name: string) => `{${names[name] ?? name}}`);
  return `${method} ${ADMIN}${template}`;
}

/** Names for the ids in test titles (the real ids exist only once the app runs). */
export const placeholders = Object.fromEntries(
  [
    'organisationId',
    'projectId',
    'environmentId',
    'environmentKey',
    'secondEnvironmentId',
    'featureId',
    'mvFeatureId',
    'optionId',
    'segmentId',
    'tagId',
    'identifier',
    'serverKeyId',
    'orgKeyId',
    'userId',
    'userKeyId',
    'invitationId',
  ].map((name) => [name, `:${name}`]),
) as unknown as OrganisationSetup;

export const identityPath = (s: OrganisationSetup): string => `/environments/${s.environmentId}/identities/${encodeURIComponent(s.identifier)}`;

/** Every admin route that reads or changes one organisation's resources. */
export const ROUTES: readonly Route[] = [
  { method: 'GET', path: (s) => `/users/${s.userId}` },
  { method: 'PATCH', path: (s) => `/users/${s.userId}`, body: () => ({ name: 'Taken over' }) },
  { method: 'DELETE', path: (s) => `/users/${s.userId}` },
  { method: 'GET', path: (s) => `/users/${s.userId}/api-keys` },
  { method: 'POST', path: (s) => `/users/${s.userId}/api-keys`, body: () => ({ name: 'stolen' }) },
  { method: 'DELETE', path: (s) => `/users/${s.userId}/api-keys/${s.userKeyId}` },
  { method: 'GET', path: (s) => `/users/${s.userId}/history` },

  { method: 'GET', path: (s) => `/organisations/${s.organisationId}` },
  { method: 'PATCH', path: (s) => `/organisations/${s.organisationId}`, body: () => ({ name: 'Taken over' }) },
  { method: 'DELETE', path: (s) => `/organisations/${s.organisationId}` },
  { method: 'GET', path: (s) => `/organisations/${s.organisationId}/members` },
  { method: 'POST', path: (s) => `/organisations/${s.organisationId}/members`, body: (_s, other) => ({ userId: other.userId, role: 'admin' }) },
  { method: 'PATCH', path: (s) => `/organisations/${s.organisationId}/members/${s.userId}`, body: () => ({ role: 'member' }) },
  { method: 'DELETE', path: (s) => `/organisations/${s.organisationId}/members/${s.userId}` },
  { method: 'GET', path: (s) => `/organisations/${s.organisationId}/api-keys` },
  { method: 'POST', path: (s) => `/organisations/${s.organisationId}/api-keys`, body: () => ({ name: 'stolen', role: 'admin' }) },
  { method: 'DELETE', path: (s) => `/organisations/${s.organisationId}/api-keys/${s.orgKeyId}` },
  { method: 'GET', path: (s) => `/organisations/${s.organisationId}/history` },
  { method: 'POST', path: (s) => `/organisations/${s.organisationId}/invitations`, body: (_s, other) => ({ email: `planted-${other.organisationId}@example.com`, role: 'admin' }) },
  { method: 'GET', path: (s) => `/organisations/${s.organisationId}/invitations` },
  { method: 'DELETE', path: (s) => `/organisations/${s.organisationId}/invitations/${s.invitationId}` },
  { method: 'POST', path: (s) => `/invitations/${s.invitationId}/accept` },
  { method: 'POST', path: (s) => `/invitations/${s.invitationId}/decline` },

  { method: 'POST', path: () => '/projects', body: (s) => ({ organisation: s.organisationId, name: 'Planted' }) },
  { method: 'GET', path: (s) => `/projects?organisation=${s.organisationId}` },
  { method: 'GET', path: (s) => `/projects/${s.projectId}` },
  { method: 'PATCH', path: (s) => `/projects/${s.projectId}`, body: () => ({ name: 'Taken over' }) },
  { method: 'DELETE', path: (s) => `/projects/${s.projectId}` },
  { method: 'GET', path: (s) => `/projects/${s.projectId}/history` },
  { method: 'GET', path: (s) => `/projects/${s.projectId}/diff` },
  { method: 'GET', path: (s) => `/projects/${s.projectId}/tags` },
  { method: 'POST', path: (s) => `/projects/${s.projectId}/tags`, body: () => ({ label: 'planted' }) },
  { method: 'GET', path: (s) => `/projects/${s.projectId}/tags/${s.tagId}` },
  { method: 'PATCH', path: (s) => `/projects/${s.projectId}/tags/${s.tagId}`, body: () => ({ label: 'changed' }) },
  { method: 'DELETE', path: (s) => `/projects/${s.projectId}/tags/${s.tagId}` },
  { method: 'GET', path: (s) => `/projects/${s.projectId}/tags/${s.tagId}/history` },

  { method: 'GET', path: (s) => `/projects/${s.projectId}/features` },
  { method: 'POST', path: (s) => `/projects/${s.projectId}/features`, body: () => ({ name: 'planted' }) },
  { method: 'GET', path: (s) => `/projects/${s.projectId}/features/${s.featureId}` },
  { method: 'PATCH', path: (s) => `/projects/${s.projectId}/features/${s.featureId}`, body: () => ({ description: 'changed' }) },
  { method: 'DELETE', path: (s) => `/projects/${s.projectId}/features/${s.featureId}` },
  { method: 'GET', path: (s) => `/projects/${s.projectId}/features/${s.featureId}/history` },
  { method: 'POST', path: (s) => `/projects/${s.projectId}/features/${s.mvFeatureId}/multivariate-options`, body: () => ({ value: 'planted' }) },
  { method: 'PATCH', path: (s) => `/projects/${s.projectId}/features/${s.mvFeatureId}/multivariate-options/${s.optionId}`, body: () => ({ value: 'changed' }) },
  { method: 'DELETE', path: (s) => `/projects/${s.projectId}/features/${s.mvFeatureId}/multivariate-options/${s.optionId}` },

  { method: 'GET', path: (s) => `/projects/${s.projectId}/segments` },
  { method: 'POST', path: (s) => `/projects/${s.projectId}/segments`, body: () => ({ name: 'planted', rules: [] }) },
  { method: 'GET', path: (s) => `/projects/${s.projectId}/segments/${s.segmentId}` },
  { method: 'PATCH', path: (s) => `/projects/${s.projectId}/segments/${s.segmentId}`, body: () => ({ name: 'changed' }) },
  { method: 'DELETE', path: (s) => `/projects/${s.projectId}/segments/${s.segmentId}` },
  { method: 'GET', path: (s) => `/projects/${s.projectId}/segments/${s.segmentId}/history` },

  { method: 'GET', path: (s) => `/projects/${s.projectId}/environments` },
  { method: 'POST', path: (s) => `/projects/${s.projectId}/environments`, body: () => ({ name: 'Planted' }) },
  { method: 'GET', path: (s) => `/environments/${s.environmentId}` },
  { method: 'GET', path: (s) => `/environments/${s.environmentKey}` },
  { method: 'PATCH', path: (s) => `/environments/${s.environmentId}`, body: () => ({ name: 'Taken over' }) },
  { method: 'PATCH', path: (s) => `/environments/${s.environmentKey}`, body: () => ({ name: 'Taken over' }) },
  { method: 'DELETE', path: (s) => `/environments/${s.secondEnvironmentId}` },
  { method: 'POST', path: (s) => `/environments/${s.environmentId}/clone`, body: () => ({ name: 'Copied out' }) },
  { method: 'GET', path: (s) => `/environments/${s.environmentId}/history` },
  { method: 'GET', path: (s) => `/environments/${s.environmentId}/diff` },
  { method: 'GET', path: (s) => `/environments/${s.environmentId}/api-keys` },
  { method: 'POST', path: (s) => `/environments/${s.environmentId}/api-keys`, body: () => ({ name: 'stolen' }) },
  { method: 'DELETE', path: (s) => `/environments/${s.environmentId}/api-keys/${s.serverKeyId}` },
  { method: 'GET', path: (s) => `/environments/${s.environmentId}/feature-states` },
  { method: 'GET', path: (s) => `/environments/${s.environmentKey}/feature-states/${s.featureId}` },
  { method: 'PATCH', path: (s) => `/environments/${s.environmentId}/feature-states/${s.featureId}`, body: () => ({ enabled: true, value: 'hijacked' }) },
  { method: 'GET', path: (s) => `/environments/${s.environmentId}/segment-overrides` },
  { method: 'GET', path: (s) => `/environments/${s.environmentId}/segment-overrides?feature=${s.featureId}` },
  { method: 'POST', path: (s) => `/environments/${s.environmentId}/segment-overrides`, body: (s) => ({ feature: s.mvFeatureId, segment: s.segmentId, enabled: true }) },
  { method: 'GET', path: (s) => `/environments/${s.environmentId}/segment-overrides/${s.featureId}/${s.segmentId}` },
  { method: 'PATCH', path: (s) => `/environments/${s.environmentId}/segment-overrides/${s.featureId}/${s.segmentId}`, body: () => ({ value: 'hijacked' }) },
  { method: 'DELETE', path: (s) => `/environments/${s.environmentId}/segment-overrides/${s.featureId}/${s.segmentId}` },
  { method: 'PUT', path: (s) => `/environments/${s.environmentId}/features/${s.featureId}/segment-override-order`, body: (s) => ({ segmentIds: [s.segmentId] }) },
  { method: 'GET', path: (s) => `/environments/${s.environmentId}/analytics/flags` },
  { method: 'POST', path: (s) => `/environments/${s.environmentId}/evaluate`, body: (s) => ({ identifier: s.identifier }), readOnly: true },

  { method: 'GET', path: (s) => `/environments/${s.environmentId}/identities` },
  { method: 'POST', path: (s) => `/environments/${s.environmentId}/identities`, body: () => ({ identifier: 'planted', traits: { a: 1 } }) },
  { method: 'GET', path: (s) => identityPath(s) },
  { method: 'DELETE', path: (s) => identityPath(s) },
  { method: 'POST', path: (s) => `${identityPath(s)}/erase` },
  { method: 'PATCH', path: (s) => `${identityPath(s)}/traits`, body: () => ({ traits: { plan: 'free' } }) },
  { method: 'PUT', path: (s) => `${identityPath(s)}/traits`, body: () => ({ traits: { plan: 'free' } }) },
  { method: 'PUT', path: (s) => `${identityPath(s)}/overrides/${s.featureId}`, body: () => ({ enabled: false }) },
  { method: 'DELETE', path: (s) => `${identityPath(s)}/overrides/${s.featureId}` },
  { method: 'GET', path: (s) => `${identityPath(s)}/history` },
];
