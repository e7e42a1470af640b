import Ajv, { type ValidateFunction } from 'ajv';
import type { Json, JsonObject } from './http-harness';

type Schema = { [key: string]: unknown };

const isSchema = (value: unknown): value is Schema => typeof value === 'object' && value !== null && !Array.isArray(value);

/** An OpenAPI 3.0 schema as JSON Schema: `nullable` becomes a null alternative, component references point into one root. */
export function toJsonSchema(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toJsonSchema);
  if (!isSchema(value)) return value;
  const converted: Schema = {};
  for (const [key, inner] of Object.entries(value)) {
    if (key === '$ref' && typeof inner === 'string') converted[key] = inner.replace('#/components/schemas/', 'oas#/definitions/');
    else if (key === 'properties' && isSchema(inner)) converted[key] = Object.fromEntries(Object.entries(inner).map(([name, schema]) => [name, toJsonSchema(schema)]));
    else if (key !== 'nullable') converted[key] = toJsonSchema(inner);
  }
  return value['nullable'] === true ? { anyOf: [converted, { type: 'null' }] } : converted;
}

interface Operation {
  readonly template: string;
  readonly method: string;
  readonly pattern: RegExp;
  readonly responses: Schema;
}

/** Checks real answers against what the OpenAPI document declares for their operation and status. */
export class ContractChecker {
  private readonly ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  private readonly operations: Operation[] = [];
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(readonly document: JsonObject) {
    const components = document['components'];
    const schemas = isSchema(components) ? components['schemas'] : undefined;
    this.ajv.addSchema({ definitions: toJsonSchema(schemas ?? {}) }, 'oas');
    const paths = isSchema(document['paths']) ? document['paths'] : {};
    for (const [template, item] of Object.entries(paths)) {
      if (!isSchema(item)) continue;
      const pattern = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`);
      for (const [method, operation] of Object.entries(item)) {
        if (isSchema(operation) && isSchema(operation['responses'])) this.operations.push({ template, method: method.toUpperCase(), pattern, responses: operation['responses'] });
      }
    }
  }

  /** The operation a concrete request path (query included or not) falls under. */
  operation(method: string, path: string): Operation | undefined {
    const bare = path.split('?')[0] as string;
    const matches = this.operations.filter((operation) => operation.method === method && operation.pattern.test(bare));
    // A literal segment beats a parameter (`/users/me` over `/users/{userId}`).
    return matches.sort((a, b) => (b.template.match(/\{/g)?.length ?? 0) - (a.template.match(/\{/g)?.length ?? 0)).pop();
  }

  /** What is wrong with this answer by the document: an undeclared status, or a body its schema rejects. */
  problems(method: string, path: string, status: number, body: Json, text: string): string[] {
    const operation = this.operation(method, path);
    if (!operation) return [`${method} ${path}: no such operation in the document`];
    const declared = operation.responses[String(status)];
    if (!isSchema(declared)) return [`${method} ${operation.template}: answered ${status}, which is not declared`];
    const content = declared['content'];
    const media = isSchema(content) ? content['application/json'] : undefined;
    const schema = isSchema(media) ? media['schema'] : undefined;
    if (schema === undefined) return text === '' ? [] : [`${method} ${operation.template} ${status}: a body where none is declared`];
    const key = `${method} ${operation.template} ${status}`;
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile(toJsonSchema(schema) as Schema);
      this.compiled.set(key, validate);
    }
    if (validate(body)) return [];
    return (validate.errors ?? []).map((error) => `${key}: ${error.instancePath || '(body)'} ${error.message ?? ''} ${JSON.stringify(error.params)}`);
  }
}
