import type { OrganisationSetup } from './fixtures';
import { ADMIN, obj, type Json, type JsonObject, type Method } from './http-harness';
import { GLOBAL_OPERATIONS, placeholders, ROUTES, templateOf, type Route } from './routes';

/** One request of the isolation probe: a documented admin operation applied to an organisation's resources. */
export interface Probe {
  /** `METHOD /admin/v1/template` as the OpenAPI document names it. */
  readonly operation: string;
  /** Where the probe comes from: the hand-written route table, or the OpenAPI document alone. */
  readonly source: 'table' | 'openapi';
  readonly method: Method;
  /** Path under the admin prefix, for an organisation. */
  readonly path: (s: OrganisationSetup) => string;
  readonly body?: (s: OrganisationSetup, other: OrganisationSetup) => unknown;
  /**
   * A body to send instead when `body` is refused as invalid (400): a schema cannot say "one of
   * these optional fields", so a body of required fields only may not pass; this one names every field.
   */
  readonly fullBody?: () => unknown;
}

export interface ProbePlan {
  readonly probes: readonly Probe[];
  /** Documented operations that address no organisation (no path parameter, listed as global). */
  readonly global: readonly string[];
  /** Documented operations the probe cannot address: a path parameter it has no value for, or no path parameter and not global. */
  readonly unaddressable: readonly string[];
}

const METHODS: readonly Method[] = ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'];

/**
 * The value of a path parameter for an organisation, by the parameter's name. Keys are named
 * `keyId` under users, organisations and environments alike, so the path decides whose key it is.
 */
const PATH_VALUES: Readonly<Record<string, (s: OrganisationSetup, template: string) => string>> = {
  organisationId: (s) => String(s.organisationId),
  projectId: (s) => String(s.projectId),
  environment: (s) => String(s.environmentId),
  environmentId: (s) => String(s.environmentId),
  featureId: (s, template) => String(template.includes('/multivariate-options') ? s.mvFeatureId : s.featureId),
  segmentId: (s) => String(s.segmentId),
  tagId: (s) => String(s.tagId),
  optionId: (s) => String(s.optionId),
  userId: (s) => String(s.userId),
  invitationId: (s) => s.invitationId,
  identifier: (s) => encodeURIComponent(s.identifier),
  keyId: (s, template) => (template.startsWith(`${ADMIN}/users/`) ? s.userKeyId : template.startsWith(`${ADMIN}/organisations/`) ? s.orgKeyId : s.serverKeyId),
};

/** Resolves a local `$ref` of the document. */
function resolve(document: JsonObject, schema: JsonObject): JsonObject {
  const ref = schema['$ref'];
  if (typeof ref !== 'string') return schema;
  const target = ref
    .replace(/^#\//, '')
    .split('/')
    .reduce<Json | undefined>((node, part) => (node !== null && typeof node === 'object' && !Array.isArray(node) ? node[part] : undefined), document);
  return resolve(document, obj(target));
}

/**
 * A value the schema accepts, as far as its keywords say: enums, formats and bounds; of an object,
 * its required properties (or, with none, its first, as a PATCH must change something), or every
 * property when `every` is set; a map gets one entry.
 */
export function exampleOf(document: JsonObject, raw: JsonObject, every = false, depth = 0): Json {
  const schema = resolve(document, raw);
  if (depth > 8) return null;
  if ('example' in schema) return schema['example'] ?? null;
  if ('default' in schema) return schema['default'] ?? null;
  const [first] = [...(Array.isArray(schema['allOf']) ? schema['allOf'] : []), ...(Array.isArray(schema['oneOf']) ? schema['oneOf'] : []), ...(Array.isArray(schema['anyOf']) ? schema['anyOf'] : [])];
  if (first !== undefined && 'properties' in schema) {
    // An object whose alternatives only add constraints (`anyOf: [{required: [a]}, {required: [b]}]`): its own properties, with the first alternative's requirements.
    const { allOf: _allOf, oneOf: _oneOf, anyOf: _anyOf, ...own } = schema;
    const alternative = resolve(document, obj(first));
    const required = [...(Array.isArray(own['required']) ? own['required'] : []), ...(Array.isArray(alternative['required']) ? alternative['required'] : [])];
    return exampleOf(document, { ...own, required }, every, depth + 1);
  }
  if (first !== undefined) return exampleOf(document, obj(first), every, depth + 1);
  const enumeration = schema['enum'];
  if (Array.isArray(enumeration) && enumeration.length > 0) return enumeration[0] ?? null;
  const number = (name: string): number | undefined => (typeof schema[name] === 'number' ? (schema[name]) : undefined);
  const type = typeof schema['type'] === 'string' ? schema['type'] : 'object';
  switch (type) {
    case 'string': {
      if (schema['format'] === 'email') return 'probe@example.com';
      if (schema['format'] === 'date-time') return '2026-01-01T00:00:00.000Z';
      const length = Math.min(Math.max(number('minLength') ?? 1, 5), number('maxLength') ?? 5);
      return 'probe'.padEnd(length, 'e').slice(0, length);
    }
    case 'integer':
    case 'number':
      return Math.max(number('minimum') ?? 1, 1);
    case 'boolean':
      return true;
    case 'array': {
      const items = schema['items'];
      const count = number('minItems') ?? 0;
      return items && typeof items === 'object' && !Array.isArray(items) ? Array.from({ length: count }, () => exampleOf(document, items, every, depth + 1)) : [];
    }
    default: {
      const properties = schema['properties'];
      const additional = schema['additionalProperties'];
      if (!properties || typeof properties !== 'object' || Array.isArray(properties)) {
        if (additional === true) return { probe: 'probe' };
        return additional && typeof additional === 'object' && !Array.isArray(additional) ? { probe: exampleOf(document, additional, every, depth + 1) } : {};
      }
      const required = Array.isArray(schema['required']) ? schema['required'].filter((name): name is string => typeof name === 'string') : [];
      const names = every ? Object.keys(properties) : required.length > 0 ? required : Object.keys(properties).slice(0, 1);
      return Object.fromEntries(names.map((name) => [name, exampleOf(document, obj(properties[name]), every, depth + 1)]));
    }
  }
}

/**
 * Every documented admin operation as isolation probes. Each operation with path parameters is
 * probed from the document: parameters filled by name, the body the route table gives it or else
 * one made from its schema. So a route added later is probed without anyone writing it down. The
 * table's own entries are probed too (they reach environments by key as well as by id, and
 * projects through `?organisation=`).
 */
export function planProbes(document: JsonObject, table: readonly Route[] = ROUTES): ProbePlan {
  const probes: Probe[] = [];
  const global: string[] = [];
  const unaddressable: string[] = [];
  const byOperation = new Map<string, Route[]>();
  for (const route of table) {
    const operation = templateOf(route.method, route.path(placeholders));
    byOperation.set(operation, [...(byOperation.get(operation) ?? []), route]);
  }
  for (const [template, item] of Object.entries(obj(document['paths']))) {
    if (!template.startsWith(`${ADMIN}/`)) continue;
    for (const [verb, definition] of Object.entries(obj(item))) {
      const method = verb.toUpperCase() as Method;
      if (!METHODS.includes(method)) continue;
      const operation = `${method} ${template}`;
      const routes = byOperation.get(operation) ?? [];
      for (const route of routes) probes.push({ operation, source: 'table', method, path: route.path, ...(route.body ? { body: route.body } : {}) });
      const names = [...template.matchAll(/\{(\w+)\}/g)].map((match) => match[1] as string);
      if (names.length === 0) {
        if (routes.length === 0) (GLOBAL_OPERATIONS.includes(operation) ? global : unaddressable).push(operation);
        continue;
      }
      if (names.some((name) => !(name in PATH_VALUES))) {
        unaddressable.push(`${operation} (no value for ${names.filter((name) => !(name in PATH_VALUES)).join(', ')})`);
        continue;
      }
      const requestSchema = obj(definition)['requestBody'];
      const schema = requestSchema ? obj(obj(obj(obj(requestSchema)['content'])['application/json'])['schema']) : undefined;
      // A body from the table names real resources; one made from the schema only has the right shape.
      const tableBody = routes.find((route) => route.body)?.body;
      const example = schema ? exampleOf(document, schema) : undefined;
      const full = schema ? exampleOf(document, schema, true) : undefined;
      const body = tableBody ?? (example !== undefined ? () => example : undefined);
      probes.push({
        operation,
        source: 'openapi',
        method,
        path: (s) => template.slice(ADMIN.length).replace(/\{(\w+)\}/g, (_match, name: string) => (PATH_VALUES[name] as (s: OrganisationSetup, template: string) => string)(s, template)),
        ...(body ? { body } : {}),
        ...(!tableBody && full !== undefined ? { fullBody: () => full } : {}),
      });
    }
  }
  return { probes, global, unaddressable };
}
