import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadStandaloneConfig } from '../config';
import { startStandalone, type Standalone } from '../standalone';

/** A parsed JSON value as it comes off the wire. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  /** `ETag` header, or null. */
  readonly etag: string | null;
  readonly text: string;
  /** The parsed body (null when the body is empty or not JSON). */
  readonly body: Json;
}

export interface RequestOptions {
  /** An API key sent as `Authorization: Api-Key <key>`; null sends no Authorization header. */
  readonly key?: string | null;
  readonly headers?: Record<string, string>;
  /** Serialised as JSON unless `raw` is given. */
  readonly body?: unknown;
  /** Sent verbatim (with `application/json` unless a content type header is given). */
  readonly raw?: string;
}

export type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/** A small JSON client against one running app, defaulting to one key. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    readonly defaultKey: string | null,
  ) {}

  withKey(key: string | null): ApiClient {
    return new ApiClient(this.baseUrl, key);
  }

  async request(method: Method, path: string, options: RequestOptions = {}): Promise<ApiResponse> {
    const key = options.key === undefined ? this.defaultKey : options.key;
    const headers: Record<string, string> = { ...(key !== null ? { authorization: `Api-Key ${key}` } : {}), ...options.headers };
    let payload: string | undefined;
    if (options.raw !== undefined) payload = options.raw;
    else if (options.body !== undefined) payload = JSON.stringify(options.body);
    if (payload !== undefined && !Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
    const response = await fetch(`${this.baseUrl}${path}`, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
    const text = await response.text();
    let body: Json = null;
    if (text !== '') {
      try {
        body = JSON.parse(text) as Json;
      } catch {
        body = null;
      }
    }
    return { status: response.status, headers: response.headers, etag: response.headers.get('etag'), text, body };
  }

  get(path: string, options?: RequestOptions): Promise<ApiResponse> {
    return this.request('GET', path, options);
  }

  post(path: string, body?: unknown, options: RequestOptions = {}): Promise<ApiResponse> {
    return this.request('POST', path, { ...options, ...(body !== undefined ? { body } : {}) });
  }

  patch(path: string, body?: unknown, options: RequestOptions = {}): Promise<ApiResponse> {
    return this.request('PATCH', path, { ...options, ...(body !== undefined ? { body } : {}) });
  }

  put(path: string, body?: unknown, options: RequestOptions = {}): Promise<ApiResponse> {
    return this.request('PUT', path, { ...options, ...(body !== undefined ? { body } : {}) });
  }

  delete(path: string, options?: RequestOptions): Promise<ApiResponse> {
    return this.request('DELETE', path, options);
  }
}

export const ADMIN = '/admin/v1';

export interface TestApp {
  readonly app: Standalone;
  readonly dataDir: string;
  readonly adminKey: string;
  /** Client using the instance administrator's key. */
  readonly admin: ApiClient;
  client(key: string | null): ApiClient;
  /** Stops the app; the data directory stays (see `dispose`). */
  stop(): Promise<void>;
  /** Stops the app and removes its data directory. */
  dispose(): Promise<void>;
}

/** A fresh temporary data directory. */
export function tempDataDir(prefix = 'flagline-http-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Starts the standalone app on a random port and the given (or a fresh) data directory, as `main.ts` would. */
export async function startTestApp(options: { dataDir?: string; env?: Record<string, string> } = {}): Promise<TestApp> {
  const dataDir = options.dataDir ?? (await tempDataDir());
  const config = await loadStandaloneConfig({ DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', ...options.env });
  const app = await startStandalone(config);
  let stopped: Promise<void> | null = null;
  const stop = (): Promise<void> => (stopped ??= app.close());
  return {
    app,
    dataDir,
    adminKey: config.adminApiKey,
    admin: new ApiClient(`${app.url}`, config.adminApiKey),
    client: (key) => new ApiClient(app.url, key),
    stop,
    async dispose() {
      await stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Narrows a JSON value to an object, failing the test otherwise. */
export function obj(value: Json | undefined): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`expected a JSON object, got ${JSON.stringify(value)}`);
  return value;
}

/** Narrows a JSON value to an array, failing the test otherwise. */
export function arr(value: Json | undefined): Json[] {
  if (!Array.isArray(value)) throw new Error(`expected a JSON array, got ${JSON.stringify(value)}`);
  return value;
}

/** A numeric field of a JSON object. */
export function num(value: Json | undefined, field: string): number {
  const found = obj(value)[field];
  if (typeof found !== 'number') throw new Error(`expected number field "${field}" in ${JSON.stringify(value)}`);
  return found;
}

/** A string field of a JSON object. */
export function str(value: Json | undefined, field: string): string {
  const found = obj(value)[field];
  if (typeof found !== 'string') throw new Error(`expected string field "${field}" in ${JSON.stringify(value)}`);
  return found;
}

/** The `results` array of a page. */
export function results(value: Json): JsonObject[] {
  return arr(obj(value)['results']).map(obj);
}

/**
 * Every item of a collection route (`{results, next}`), following `next` page by page; a page
 * larger than `pageSize` or a cursor that is not a string fails the test.
 */
export async function listAll(client: ApiClient, path: string, pageSize = 500): Promise<JsonObject[]> {
  const items: JsonObject[] = [];
  let after: string | null = null;
  for (let pages = 0; pages < 1000; pages++) {
    const query = `${path.includes('?') ? '&' : '?'}pageSize=${pageSize}${after === null ? '' : `&after=${encodeURIComponent(after)}`}`;
    const body = expectStatus(await client.get(`${path}${query}`), 200);
    const page = results(body);
    if (page.length > pageSize) throw new Error(`a page of ${pageSize} held ${page.length} items`);
    items.push(...page);
    const next = obj(body)['next'];
    if (next === null) return items;
    if (typeof next !== 'string') throw new Error(`bad cursor ${JSON.stringify(next)}`);
    after = next;
  }
  throw new Error(`${path} did not end`);
}

/** Fails with the response when the status is not the expected one; returns the body. */
export function expectStatus(response: ApiResponse, status: number): Json {
  if (response.status !== status) throw new Error(`expected HTTP ${status}, got ${response.status}: ${response.text.slice(0, 2000)}`);
  return response.body;
}

/** The field names of a validation error body. */
export function errorFields(body: Json): string[] {
  const errors = obj(body)['errors'];
  return Array.isArray(errors) ? errors.map((error) => str(error, 'field')) : [];
}
