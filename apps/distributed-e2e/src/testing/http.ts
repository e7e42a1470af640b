export interface HttpAnswer {
  readonly status: number;
  readonly text: string;
  /** The parsed JSON body, or undefined when the body is not JSON. */
  readonly body: unknown;
}

export async function httpRequest(
  method: string,
  url: string,
  options: { readonly headers?: Readonly<Record<string, string>>; readonly body?: unknown; readonly timeoutMs?: number } = {},
): Promise<HttpAnswer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(url, {
    method,
    headers,
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = text.length > 0 ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    body = undefined;
  }
  return { status: response.status, text, body };
}

/** Narrowing helpers for JSON answers: a wrong shape fails with the path and the whole value. */
export function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${what}: expected an object, got ${JSON.stringify(value)}`);
  return value as Record<string, unknown>;
}

export function list(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${what}: expected an array, got ${JSON.stringify(value)}`);
  return value as unknown[];
}

export function numberAt(value: unknown, key: string): number {
  const field = record(value, key)[key];
  if (typeof field !== 'number') throw new Error(`${key}: expected a number in ${JSON.stringify(value)}`);
  return field;
}

export function stringAt(value: unknown, key: string): string {
  const field = record(value, key)[key];
  if (typeof field !== 'string') throw new Error(`${key}: expected a string in ${JSON.stringify(value)}`);
  return field;
}

export type TraitValue = string | number | boolean;

/** The admin API of the command service (`/admin/v1`), as the instance administrator. */
export class AdminClient {
  constructor(
    readonly baseUrl: string,
    private readonly apiKey: string,
  ) {}

  send(method: string, path: string, body?: unknown): Promise<HttpAnswer> {
    return httpRequest(method, `${this.baseUrl}/admin/v1${path}`, { headers: { authorization: `Api-Key ${this.apiKey}` }, body });
  }

  /** A request that must succeed (2xx); returns the JSON body. */
  async ok(method: string, path: string, body?: unknown): Promise<unknown> {
    const answer = await this.send(method, path, body);
    if (answer.status < 200 || answer.status > 299) throw new Error(`${method} /admin/v1${path} answered ${answer.status}: ${answer.text}`);
    return answer.body;
  }
}

/** One flag as the SDK API renders it (the fields the tests read). */
export interface SdkFlag {
  readonly enabled: boolean;
  readonly value: unknown;
}

/** The flags of a Flagsmith SDK answer (`/flags/` is a list, identify has `flags`), by feature name. */
export function flagsByName(flags: unknown): Map<string, SdkFlag> {
  const byName = new Map<string, SdkFlag>();
  for (const entry of list(flags, 'flags')) {
    const flag = record(entry, 'flag');
    byName.set(stringAt(flag['feature'], 'name'), { enabled: flag['enabled'] === true, value: flag['feature_state_value'] });
  }
  return byName;
}

/** The traits of an identify answer, by key. */
export function traitsOf(identifyBody: unknown): Record<string, unknown> {
  const traits: Record<string, unknown> = {};
  for (const entry of list(record(identifyBody, 'identify answer')['traits'], 'traits')) traits[stringAt(entry, 'trait_key')] = record(entry, 'trait')['trait_value'];
  return traits;
}

/** Flagsmith's SDK API and OFREP on an evaluation service. */
export class SdkClient {
  constructor(
    readonly baseUrl: string,
    private readonly environmentKey: string,
  ) {}

  private get headers(): Record<string, string> {
    return { 'x-environment-key': this.environmentKey };
  }

  async flags(): Promise<Map<string, SdkFlag>> {
    const answer = await httpRequest('GET', `${this.baseUrl}/api/v1/flags/`, { headers: this.headers });
    if (answer.status !== 200) throw new Error(`GET /api/v1/flags/ answered ${answer.status}: ${answer.text}`);
    return flagsByName(answer.body);
  }

  /** GET identify: the stored identity's flags and traits. */
  async identity(identifier: string): Promise<{ flags: Map<string, SdkFlag>; traits: Record<string, unknown> }> {
    const answer = await httpRequest('GET', `${this.baseUrl}/api/v1/identities/?identifier=${encodeURIComponent(identifier)}`, { headers: this.headers });
    if (answer.status !== 200) throw new Error(`GET /api/v1/identities/ answered ${answer.status}: ${answer.text}`);
    return { flags: flagsByName(record(answer.body, 'identify answer')['flags']), traits: traitsOf(answer.body) };
  }

  /** POST identify with traits: evaluated with them, and stored through the command service. */
  async identify(identifier: string, traits: Readonly<Record<string, TraitValue>>): Promise<{ flags: Map<string, SdkFlag>; traits: Record<string, unknown> }> {
    const body = { identifier, traits: Object.entries(traits).map(([trait_key, trait_value]) => ({ trait_key, trait_value })) };
    const answer = await httpRequest('POST', `${this.baseUrl}/api/v1/identities/`, { headers: this.headers, body });
    if (answer.status !== 200) throw new Error(`POST /api/v1/identities/ answered ${answer.status}: ${answer.text}`);
    return { flags: flagsByName(record(answer.body, 'identify answer')['flags']), traits: traitsOf(answer.body) };
  }

  /** OFREP single-flag evaluation: the value. */
  async ofrep(flagKey: string, context: Readonly<Record<string, TraitValue>>): Promise<unknown> {
    const answer = await httpRequest('POST', `${this.baseUrl}/ofrep/v1/evaluate/flags/${encodeURIComponent(flagKey)}`, {
      headers: { 'x-api-key': this.environmentKey },
      body: { context },
    });
    if (answer.status !== 200) throw new Error(`OFREP ${flagKey} answered ${answer.status}: ${answer.text}`);
    return record(answer.body, 'OFREP answer')['value'];
  }
}
