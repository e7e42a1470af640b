import { errorAnswer, SDK_CORS_HEADERS, SDK_CORS_PREFLIGHT_HEADERS, type EnvironmentRegistry, type FlagsmithSdkService, type OfrepService, type ResolvedKey, type SdkAnswer } from '@flagline/evaluation-application';
import { jsonDepthExceeds, jsonHasLoneSurrogate, MAX_JSON_DEPTH } from '@flagline/http-edge';
import { parseJsonKeepingFloats } from '@flagline/python-compat';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { SdkIncomingMessage } from './sdk-incoming-message';
import { TurnWrites } from './turn-writes';

export interface EvaluationHttpOptions {
  /** Largest accepted request body in bytes. */
  readonly maxBodyBytes?: number;
  readonly onError?: (error: unknown) => void;
  /** Called once per answered request, for metrics; `startedAt` is the request's `performance.now()`. */
  readonly onAnswered?: (route: string, status: number, startedAt: number) => void;
}

const JSON_TYPE = 'application/json';
const CORS_HEADERS = SDK_CORS_HEADERS;

class BodyTooLarge extends Error {}
class MalformedJson extends Error {}
class JsonTooDeep extends Error {}
class LoneSurrogate extends Error {}

/**
 * A request header by lower-case name, read from the raw list: touching `request.headers` makes
 * Node build the whole headers object, a cost the hot path need not pay for one header.
 */
/** Longest `X-Correlation-Id` kept: it is stored with every event a request appends. */
const MAX_CORRELATION_ID_LENGTH = 200;
const CORRELATION_ID = /^[\x21-\x7e]+$/;

/**
 * The request's `X-Correlation-Id` when it is 1 to 200 visible ASCII characters, else a new one:
 * an SDK request is never refused for a tracing header, and nothing unbounded reaches the log.
 */
function correlationIdOf(request: IncomingMessage): string {
  const given = header(request, 'x-correlation-id');
  return given !== undefined && given.length <= MAX_CORRELATION_ID_LENGTH && CORRELATION_ID.test(given) ? given : randomUUID();
}

function header(request: IncomingMessage, name: string): string | undefined {
  const raw = request.rawHeaders;
  for (let index = 0; index < raw.length; index += 2) {
    const candidate = raw[index] as string;
    if (candidate.length === name.length && candidate.toLowerCase() === name) return raw[index + 1];
  }
  return undefined;
}

/** Routes of the SDK-facing API, by path without query. */
type Route = 'flags' | 'identities' | 'environment-document' | 'analytics' | 'ofrep-flag' | 'ofrep-flags' | 'ofrep-configuration';

interface RouteMatch {
  readonly route: Route;
  readonly flagKey?: string;
}

/** The matches of fixed paths, made once rather than per request. */
const FIXED: Readonly<Record<Exclude<Route, 'ofrep-flag'>, RouteMatch>> = {
  flags: { route: 'flags' },
  identities: { route: 'identities' },
  'environment-document': { route: 'environment-document' },
  analytics: { route: 'analytics' },
  'ofrep-flags': { route: 'ofrep-flags' },
  'ofrep-configuration': { route: 'ofrep-configuration' },
};

function routeOf(path: string): RouteMatch | null {
  switch (path) {
    case '/api/v1/flags/':
    case '/api/v1/flags':
      return FIXED.flags;
    case '/api/v1/identities/':
    case '/api/v1/identities':
      return FIXED.identities;
    case '/api/v1/environment-document/':
    case '/api/v1/environment-document':
      return FIXED['environment-document'];
    case '/api/v1/analytics/flags/':
    case '/api/v1/analytics/flags':
      return FIXED.analytics;
    case '/ofrep/v1/evaluate/flags':
    case '/ofrep/v1/evaluate/flags/':
      return FIXED['ofrep-flags'];
    case '/ofrep/v1/configuration':
      return FIXED['ofrep-configuration'];
    default:
      if (path.startsWith('/ofrep/v1/evaluate/flags/')) {
        try {
          return { route: 'ofrep-flag', flagKey: decodeURIComponent(path.slice('/ofrep/v1/evaluate/flags/'.length)) };
        } catch {
          return { route: 'ofrep-flag', flagKey: '' };
        }
      }
      return null;
  }
}

/** The query parameters each GET route reads: given more than once, which one is meant is unclear, so it is a 400 naming it. */
const QUERY_PARAMETERS: Partial<Record<Route, readonly string[]>> = {
  flags: ['feature'],
  identities: ['identifier', 'transient', 'feature'],
};

const METHODS: Record<Route, string> = {
  flags: 'GET',
  identities: 'GET POST',
  'environment-document': 'GET',
  analytics: 'POST',
  'ofrep-flag': 'POST',
  'ofrep-flags': 'POST',
  'ofrep-configuration': 'GET',
};

/**
 * The evaluation service's HTTP front: Flagsmith's SDK API and OFREP on a bare `node:http`
 * handler. Environment flags are answered from a prebuilt buffer with no parsing beyond the
 * path and one header; everything else parses only what it needs.
 */
export class EvaluationHttpHandler {
  private readonly maxBodyBytes: number;

  constructor(
    private readonly registry: EnvironmentRegistry,
    private readonly sdk: FlagsmithSdkService,
    private readonly ofrep: OfrepService,
    private readonly options: EvaluationHttpOptions = {},
  ) {
    this.maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  }

  /** Answers the request if its path belongs to the SDK API or OFREP; false otherwise (not touched). */
  handle(request: IncomingMessage, response: ServerResponse): boolean {
    const url = request.url ?? '/';
    const queryAt = url.indexOf('?');
    const path = queryAt === -1 ? url : url.slice(0, queryAt);
    const match = routeOf(path);
    if (match === null) return false;
    const startedAt = this.options.onAnswered ? performance.now() : 0;

    // The hot path: environment flags for a resolved key, from the prebuilt body.
    if (match.route === 'flags' && request.method === 'GET' && queryAt === -1 && this.registry.pending === null) {
      const key = header(request, 'x-environment-key');
      const resolved = key === undefined ? null : this.registry.resolve(key);
      if (resolved) {
        this.send(response, this.sdk.environmentFlags(resolved), 'flags', startedAt);
        return true;
      }
    }

    // The other hot path: identify. A call repeating an identity's stored traits is answered from
    // memory as soon as its body is read, with no promise in between.
    if (match.route === 'identities' && request.method === 'POST' && this.registry.ready && this.registry.pending === null) {
      const key = header(request, 'x-environment-key');
      const resolved = key === undefined ? null : this.registry.resolve(key);
      if (resolved) {
        this.readText(request, (error, text) => {
          if (error) return this.send(response, this.bodyError(error, undefined, false), 'identities', startedAt);
          const remembered = this.sdk.rememberedBodyAnswer(resolved, text);
          if (remembered) return this.send(response, remembered, 'identities', startedAt);
          // A remembered body was a valid one, so only bodies not remembered need the depth check.
          if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) return this.send(response, this.bodyError(new JsonTooDeep(), undefined, false), 'identities', startedAt);
          if (jsonHasLoneSurrogate(text)) return this.send(response, this.bodyError(new LoneSurrogate(), undefined, false), 'identities', startedAt);
          let answer: SdkAnswer | Promise<SdkAnswer>;
          try {
            answer = this.sdk.identifyRaw(resolved, text, () => correlationIdOf(request), true);
          } catch (failure) {
            return this.fail(response, failure, 'identities', startedAt);
          }
          this.sendSettled(response, answer, 'identities', startedAt);
        });
        return true;
      }
    }

    // OFREP evaluation, likewise: answered as soon as the body is read, with no promise in between
    // when the identity is at hand. A request this cannot serve (no or unknown key) is dispatched.
    const ofrepRoute = match.route === 'ofrep-flag' || match.route === 'ofrep-flags' ? match.route : null;
    if (ofrepRoute !== null && request.method === 'POST' && this.registry.ready && this.registry.pending === null) {
      const resolved = this.authenticate(request, true);
      if (!('status' in resolved)) {
        this.readBody(request, (error, body) => {
          if (error) return this.send(response, this.bodyError(error, match.flagKey, true), ofrepRoute, startedAt);
          let answer: SdkAnswer | Promise<SdkAnswer>;
          try {
            answer =
              ofrepRoute === 'ofrep-flag' ? this.ofrep.evaluateFlag(resolved, match.flagKey ?? '', body) : this.ofrep.evaluateAll(resolved, body, header(request, 'if-none-match'));
          } catch (failure) {
            return this.fail(response, failure, ofrepRoute, startedAt);
          }
          this.sendSettled(response, answer, ofrepRoute, startedAt);
        });
        return true;
      }
    }

    this.dispatch(request, response, match.route, match.flagKey, queryAt === -1 ? '' : url.slice(queryAt + 1), startedAt).catch((error: unknown) =>
      this.fail(response, error, match.route, startedAt),
    );
    return true;
  }

  /** Sends the answer now, or once it settles (a failure answers 500). */
  private sendSettled(response: ServerResponse, answer: SdkAnswer | Promise<SdkAnswer>, route: string, startedAt: number): void {
    if (!(answer instanceof Promise)) return this.send(response, answer, route, startedAt);
    answer.then(
      (settled) => this.send(response, settled, route, startedAt),
      (failure: unknown) => this.fail(response, failure, route, startedAt),
    );
  }

  private fail(response: ServerResponse, error: unknown, route: string, startedAt: number): void {
    this.options.onError?.(error);
    if (!response.headersSent) this.send(response, errorAnswer(500, 'INTERNAL_ERROR', 'Internal error'), route, startedAt);
    else response.destroy();
  }

  private bodyError(error: unknown, flagKey: string | undefined, ofrep: boolean): SdkAnswer {
    if (error instanceof BodyTooLarge) return errorAnswer(413, 'PAYLOAD_TOO_LARGE', `The body must be at most ${this.maxBodyBytes} bytes`);
    if (error instanceof JsonTooDeep) {
      const details = `The JSON body nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep`;
      return ofrep
        ? { status: 400, body: JSON.stringify({ ...(flagKey !== undefined ? { key: flagKey } : {}), errorCode: 'PARSE_ERROR', errorDetails: details }) }
        : errorAnswer(400, 'JSON_TOO_DEEP', details);
    }
    if (error instanceof LoneSurrogate) {
      const details = 'The JSON body holds a \\u escape from D800 to DFFF that is not half of a surrogate pair, which is not Unicode text';
      return ofrep
        ? { status: 400, body: JSON.stringify({ ...(flagKey !== undefined ? { key: flagKey } : {}), errorCode: 'PARSE_ERROR', errorDetails: details }) }
        : errorAnswer(400, 'JSON_INVALID_UNICODE', details);
    }
    return ofrep
      ? { status: 400, body: JSON.stringify({ ...(flagKey !== undefined ? { key: flagKey } : {}), errorCode: 'PARSE_ERROR', errorDetails: 'The body is not valid JSON' }) }
      : errorAnswer(400, 'MALFORMED_JSON', 'The body is not valid JSON');
  }

  private async dispatch(request: IncomingMessage, response: ServerResponse, route: Route, flagKey: string | undefined, query: string, startedAt: number): Promise<void> {
    const method = request.method ?? 'GET';
    if (method === 'OPTIONS') {
      response.writeHead(204, SDK_CORS_PREFLIGHT_HEADERS);
      response.end();
      return;
    }
    if (!METHODS[route].split(' ').includes(method)) {
      request.resume();
      this.send(response, { ...errorAnswer(405, 'METHOD_NOT_ALLOWED', `Use ${METHODS[route].split(' ').join(' or ')}`), headers: { allow: METHODS[route].replace(' ', ', ') } }, route, startedAt);
      return;
    }
    if (!this.registry.ready) {
      request.resume();
      this.send(response, errorAnswer(503, 'NOT_READY', 'The evaluation service is loading its read models'), route, startedAt);
      return;
    }
    const pending = this.registry.pending;
    if (pending) await pending;

    const isOfrep = route.startsWith('ofrep');
    const resolved = this.authenticate(request, isOfrep);
    if ('status' in resolved) {
      request.resume();
      this.send(response, resolved, route, startedAt);
      return;
    }

    let body: unknown;
    if (method === 'POST') {
      try {
        body = await new Promise<unknown>((resolve, reject) => this.readBody(request, (error, value) => (error ? reject(error) : resolve(value))));
      } catch (error) {
        this.send(response, this.bodyError(error, flagKey, isOfrep), route, startedAt);
        return;
      }
    }

    const params = new URLSearchParams(query);
    const repeated = method === 'GET' ? QUERY_PARAMETERS[route]?.find((name) => params.getAll(name).length > 1) : undefined;
    if (repeated !== undefined) {
      this.send(response, errorAnswer(400, 'VALIDATION_FAILED', 'The request is invalid', [{ field: repeated, message: 'must be given once, as a single value' }]), route, startedAt);
      return;
    }
    // Only writes need a correlation id; most requests never make one.
    const correlationId = (): string => correlationIdOf(request);
    let answer: SdkAnswer;
    switch (route) {
      case 'flags':
        answer = this.sdk.environmentFlags(resolved, params.get('feature') ?? undefined);
        break;
      case 'identities':
        answer = method === 'POST' ? await this.sdk.identifyFromBody(resolved, body, correlationId) : await this.sdk.identifyFromQuery(resolved, params, correlationId);
        break;
      case 'environment-document':
        answer = this.sdk.environmentDocument(resolved, header(request, 'if-modified-since'));
        break;
      case 'analytics':
        answer = await this.sdk.analytics(resolved, body);
        break;
      case 'ofrep-flag':
        answer = await this.ofrep.evaluateFlag(resolved, flagKey ?? '', body);
        break;
      case 'ofrep-flags':
        answer = await this.ofrep.evaluateAll(resolved, body, header(request, 'if-none-match'));
        break;
      case 'ofrep-configuration':
        answer = this.ofrep.configuration();
        break;
    }
    this.send(response, answer, route, startedAt);
  }

  /**
   * Flagsmith SDKs send `X-Environment-Key`; OFREP providers send `X-API-Key` or a bearer token.
   * A missing key is 401, an unknown one 403, with a JSON body either way.
   */
  private authenticate(request: IncomingMessage, ofrep: boolean): ResolvedKey | SdkAnswer {
    const authorization = header(request, 'authorization');
    const bearer = authorization && /^Bearer\s+(\S+)/i.exec(authorization)?.[1];
    const key = header(request, 'x-environment-key') ?? (ofrep ? (header(request, 'x-api-key') ?? bearer ?? undefined) : undefined);
    if (key === undefined || key === '') {
      return ofrep
        ? { status: 401, body: JSON.stringify({ errorDetails: 'Send the environment key as X-API-Key, Authorization: Bearer or X-Environment-Key' }) }
        : errorAnswer(401, 'MISSING_ENVIRONMENT_KEY', 'Invalid or missing Environment key');
    }
    const resolved = this.registry.resolve(key);
    if (resolved) return resolved;
    return ofrep ? { status: 403, body: JSON.stringify({ errorDetails: 'Unknown environment key' }) } : errorAnswer(403, 'INVALID_ENVIRONMENT_KEY', 'Invalid or missing Environment key');
  }

  /** Reads and parses a JSON body. */
  private readBody(request: IncomingMessage, done: (error: Error | null, value?: unknown) => void): void {
    this.readText(request, (error, text) => {
      if (error) return done(error);
      if (text.trim() === '') return done(null, undefined);
      // Bounded before parsing: what reads a parsed body may walk it recursively.
      if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) return done(new JsonTooDeep());
      // A string no UTF-8 can carry would be stored and echoed to every SDK reading it.
      if (jsonHasLoneSurrogate(text)) return done(new LoneSurrogate());
      let value: unknown;
      try {
        // Numbers keep their written form (5.0 is a float), as Python's JSON keeps them.
        value = parseJsonKeepingFloats(text);
      } catch {
        return done(new MalformedJson());
      }
      done(null, value);
    });
  }

  /** Reads a body as text (callbacks, not promises: this runs on every POST). */
  private readText(request: IncomingMessage, done: (error: Error | null, text: string) => void): void {
    const declared = Number(header(request, 'content-length') ?? 0);
    if (declared > this.maxBodyBytes) {
      request.resume();
      done(new BodyTooLarge(), '');
      return;
    }
    let first: Buffer | null = null;
    let more: Buffer[] | null = null;
    let size = 0;
    let failed = false;
    const onData = (chunk: Buffer): void => {
      if (failed) return;
      size += chunk.length;
      if (size > this.maxBodyBytes) {
        failed = true;
        request.removeListener('data', onData);
        request.resume();
        done(new BodyTooLarge(), '');
        return;
      }
      if (first === null) first = chunk;
      else (more ??= [first]).push(chunk);
    };
    const onEnd = (): void => {
      if (failed) return;
      const bytes = more !== null ? Buffer.concat(more) : first;
      done(null, bytes === null ? '' : bytes.toString('utf8'));
    };
    // Straight from the parser when the server made the request (see SdkIncomingMessage); a
    // client that goes away mid-body leaves nobody to answer, so there is no error to report.
    if (request instanceof SdkIncomingMessage && request.divertBody((chunk) => (chunk === null ? onEnd() : onData(chunk)))) return;
    // A request ends or fails once, so plain listeners do (`once` costs a wrapper per request).
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', (error) => {
      if (!failed) done(error, '');
    });
  }

  /**
   * Answer headers (an environment's own, the same object on every answer) and their lists, made
   * once each: with a body (ending in its type and a length to fill in) and without.
   */
  private readonly headerLists = new WeakMap<NonNullable<SdkAnswer['headers']>, HeaderLists>();
  private readonly noHeaderLists = headerListsOf(undefined);

  private headerListsFor(headers: SdkAnswer['headers']): HeaderLists {
    if (headers === undefined) return this.noHeaderLists;
    let lists = this.headerLists.get(headers);
    if (lists === undefined) this.headerLists.set(headers, (lists = headerListsOf(headers)));
    return lists;
  }

  /** Answers are written at the end of the event loop's turn, all of its answers together (see `TurnWrites`). */
  private readonly writes = new TurnWrites<SdkAnswer>(
    (response, answer, route, startedAt) => this.write(response, answer, route, startedAt),
    (error, response) => {
      this.options.onError?.(error);
      response.destroy();
    },
  );

  private send(response: ServerResponse, answer: SdkAnswer, route: string, startedAt: number): void {
    this.writes.add(response, answer, route, startedAt);
  }

  private write(response: ServerResponse, answer: SdkAnswer, route: string, startedAt: number): void {
    const body = answer.body;
    if (answer.complete) response.writeHead(answer.status, answer.headers);
    else {
      // A flat list of names and values, copied from one made once for these headers: Node reads
      // an array pair by pair, where an object merged per answer is enumerated key by key. The
      // copy has its final size, so filling in the length grows nothing.
      const lists = this.headerListsFor(answer.headers);
      if (body === null) response.writeHead(answer.status, lists.withoutBody.slice());
      else {
        const headers = lists.withBody.slice();
        headers[headers.length - 1] = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
        response.writeHead(answer.status, headers);
      }
    }
    response.end(body ?? undefined);
    this.options.onAnswered?.(route, answer.status, startedAt);
  }
}

interface HeaderLists {
  readonly withoutBody: readonly (string | number)[];
  /** Ends with `content-length` and a placeholder for the body's length. */
  readonly withBody: readonly (string | number)[];
}

/**
 * The CORS headers and `headers` (which win over them) as flat lists of names and values, the
 * form `writeHead` takes without enumerating an object; a body's type and length are set per
 * answer, so the ones given here are dropped.
 */
function headerListsOf(headers: SdkAnswer['headers']): HeaderLists {
  const list: (string | number)[] = [];
  for (const [name, value] of Object.entries({ ...CORS_HEADERS, ...headers })) {
    if (name === 'content-type' || name === 'content-length') continue;
    list.push(name, value);
  }
  return { withoutBody: list, withBody: [...list, 'content-type', JSON_TYPE, 'content-length', 0] };
}
