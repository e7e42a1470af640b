import type { FixtureParameters } from './fixtures';

/**
 * Which fixture key a DELETE path's `{keyId}` names, by the path's start. They are Python regular
 * expressions (Schemathesis's), written in the subset JavaScript reads alike.
 */
export const KEY_KINDS: readonly { readonly pathRegex: string; readonly keyId: 'userKeyId' | 'organisationKeyId' | 'serverKeyId' }[] = [
  { pathRegex: '^/admin/v1/users/', keyId: 'userKeyId' },
  { pathRegex: '^/admin/v1/organisations/', keyId: 'organisationKeyId' },
  { pathRegex: '^/admin/v1/environments/', keyId: 'serverKeyId' },
];

export type Pins = Readonly<Record<string, string | number | readonly number[] | readonly string[]>>;

/** Settings of one operation, by Schemathesis's name for it (`METHOD /path`). */
export interface OperationPins {
  readonly name: string;
  /** Path parameters (`path.<name>`), over the ones every operation takes, and body fields (`body.<name>`). */
  readonly parameters: Pins;
  /** An API key sent instead of the instance administrator's. */
  readonly apiKey?: string;
}

/** The path parameters naming one fixture's entities; `keyId` is the key the path names, if any. */
export function pathParameters(set: FixtureParameters, keyId?: string): Pins {
  return {
    'path.organisationId': set.organisationId,
    'path.userId': set.userId,
    'path.projectId': set.projectId,
    'path.environment': set.environment,
    'path.featureId': set.featureId,
    'path.segmentId': set.segmentId,
    'path.tagId': set.tagId,
    'path.optionId': set.optionId,
    'path.identifier': set.identifier,
    'path.invitationId': set.invitationId,
    'path.key': set.flagKey,
    ...(keyId !== undefined ? { 'path.keyId': keyId } : {}),
  };
}

/** The fixture key a DELETE path names, if it names one. */
export function keyIdFor(path: string, set: FixtureParameters): string | undefined {
  if (!path.includes('{keyId}')) return undefined;
  const kind = KEY_KINDS.find((candidate) => new RegExp(candidate.pathRegex).test(path));
  if (kind === undefined) throw new Error(`no kind of key for ${path}`);
  return set[kind.keyId];
}

/** The operations of an OpenAPI document with the given method, as Schemathesis names them. */
export function operationsWithMethod(document: { readonly paths: Readonly<Record<string, Readonly<Record<string, unknown>>>> }, method: string): string[] {
  return Object.entries(document.paths)
    .filter(([, operations]) => method.toLowerCase() in operations)
    .map(([path]) => `${method.toUpperCase()} ${path}`);
}

/**
 * Operations that cannot answer 2xx to any request the fuzzer can send, and why; every other
 * operation that never answers 2xx fails the run.
 */
export const NO_2XX_EXPECTED: Readonly<Record<string, string>> = {};

/** A TOML literal: a string, a number or an array of numbers or strings (which JSON writes as TOML does). */
const toml = (value: string | number | readonly number[] | readonly string[]): string => (typeof value === 'number' ? String(value) : JSON.stringify(value));
const inlineTable = (entries: Pins): string =>
  `{ ${Object.entries(entries)
    .map(([key, value]) => `${toml(key)} = ${toml(value)}`)
    .join(', ')} }`;

/**
 * Schemathesis configuration: path parameters pinned to the live fixture, and per operation (by
 * exact name: a method and a path filter of one entry would each select operations on their own)
 * the parameters and key that override them, such as a fixture of its own for each DELETE.
 */
export function schemathesisConfig(adminKey: string, live: FixtureParameters, operations: readonly OperationPins[]): string {
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
    // An operation whose valid requests all answer 404 (no entity behind its path parameters) or
    // 400 (the document accepts what the API rejects) is not really fuzzed: either fails the run.
    '[warnings]',
    'fail-on = ["missing_test_data", "validation_mismatch"]',
    '',
    // The document has no examples, so the examples phase, which runs first, makes one valid request per
    // operation: each DELETE's first request is a valid one that deletes its entity (later ones may answer
    // 404, and Schemathesis then no longer counts the operation as missing test data).
    '[phases.examples]',
    'fill-missing = true',
    '',
    '[parameters]',
    ...Object.entries(pathParameters(live, live.serverKeyId)).map(([key, value]) => `${toml(key)} = ${toml(value)}`),
    '',
  ];
  for (const operation of operations) {
    lines.push('[[operations]]', `include-name = ${toml(operation.name)}`, `parameters = ${inlineTable(operation.parameters)}`);
    if (operation.apiKey !== undefined) lines.push(`headers = ${inlineTable({ Authorization: `Api-Key ${operation.apiKey}` })}`);
    lines.push('');
  }
  return lines.join('\n');
}
