import type { FixtureParameters } from './fixtures';

/**
 * The DELETE operations by the key id their path names (`keyId` differs per kind of key); the
 * patterns split the document's DELETE paths into groups, each path in exactly one. They are
 * Python regular expressions (Schemathesis's), written in the subset JavaScript reads alike.
 */
export const DELETE_GROUPS: readonly { readonly pathRegex: string; readonly keyId: 'userKeyId' | 'organisationKeyId' | 'serverKeyId' | null }[] = [
  { pathRegex: '^/admin/v1/users/', keyId: 'userKeyId' },
  { pathRegex: '^/admin/v1/organisations/', keyId: 'organisationKeyId' },
  { pathRegex: '^/admin/v1/environments/\\{environment\\}/api-keys/', keyId: 'serverKeyId' },
  { pathRegex: '^/admin/v1/(projects/|environments/\\{environment\\}(/(?!api-keys/)|$))', keyId: null },
];

/** A TOML string literal. */
const toml = (value: string | number): string => (typeof value === 'number' ? String(value) : JSON.stringify(value));
const inlineTable = (entries: Record<string, string | number>): string =>
  `{ ${Object.entries(entries)
    .map(([key, value]) => `${toml(key)} = ${toml(value)}`)
    .join(', ')} }`;

/**
 * Schemathesis configuration: path parameters pinned to the live fixture, DELETE operations to
 * a second fixture of their own (so deleting does not starve the other operations of entities).
 */
export function schemathesisConfig(adminKey: string, live: FixtureParameters, doomed: FixtureParameters): string {
  const path = (set: FixtureParameters, keyId?: string): Record<string, string | number> => ({
    'path.organisationId': set.organisationId,
    'path.userId': set.userId,
    'path.projectId': set.projectId,
    'path.environment': set.environment,
    'path.featureId': set.featureId,
    'path.segmentId': set.segmentId,
    'path.tagId': set.tagId,
    'path.optionId': set.optionId,
    'path.identifier': set.identifier,
    ...(keyId !== undefined ? { 'path.keyId': keyId } : {}),
  });
  const lines = [
    // Credentials per security scheme of the document: the admin API's key, and a server-side
    // environment key for the SDK API and OFREP (it may read everything a client key may).
    '[auth.openapi.api-key]',
    `api_key = ${toml(`Api-Key ${adminKey}`)}`,
    '[auth.openapi.environment-key]',
    `api_key = ${toml(live.serverKey)}`,
    '[auth.openapi.ofrep-api-key]',
    `api_key = ${toml(live.serverKey)}`,
    '[auth.openapi.ofrep-bearer]',
    `bearer = ${toml(live.serverKey)}`,
    '',
    '[parameters]', ...Object.entries(path(live, live.serverKeyId)).map(([key, value]) => `${toml(key)} = ${toml(value)}`), ''];
  for (const group of DELETE_GROUPS) {
    const parameters = path(doomed, group.keyId === null ? undefined : doomed[group.keyId]);
    lines.push('[[operations]]', 'include-method-regex = "^DELETE$"', `include-path-regex = ${toml(group.pathRegex)}`, `parameters = ${inlineTable(parameters)}`, '');
  }
  return lines.join('\n');
}
