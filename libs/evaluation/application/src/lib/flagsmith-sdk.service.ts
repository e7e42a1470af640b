import type { FlagAnalyticsStore, IdentityDocument, IdentityWriter } from '@flagline/contracts';
import type { FlagOutcome } from '@flagline/evaluation-engine';
import { ConcurrencyError } from '@flagline/event-sourcing';
import { parseJsonKeepingFloats, sameScalar } from '@flagline/python-compat';
import { AnswerSlab, joinedBytes } from './answer-bytes';
import { toFlagsmithEnvironmentDocument } from './environment-document.mapper';
import type { EnvironmentRegistry, ResolvedKey } from './environment-registry';
import { parseIdentifyBody, type IdentifyRequest, type TraitValue } from './identify-request';
import { storedTraits, traitValueJson } from './identity-traits';
import { errorAnswer, jsonAnswer, SDK_CORS_HEADERS, type SdkAnswer } from './sdk-answer';
import type { ServedEnvironment } from './served-environment';

export interface SdkServiceOptions {
  readonly writer?: IdentityWriter;
  readonly analytics?: FlagAnalyticsStore;
  readonly clock?: () => number;
  readonly onWriteError?: (error: unknown) => void;
}

/** Attempts of an identity write that lost a race with another write of the same identity. */
const MAX_WRITE_ATTEMPTS = 8;

const FEATURE_NOT_FOUND = (): SdkAnswer => errorAnswer(404, 'FEATURE_NOT_FOUND', 'Given feature not found');

function setOwn<V>(target: Record<string, V>, key: string, value: V): void {
  // Trait names are arbitrary text: "__proto__" must be defined, not assigned (assignment would
  // set the prototype). Every other name takes the fast assignment path.
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** The end of an answer that lists no traits (an environment hiding sensitive data). */
const NO_TRAITS_TAIL = '],"traits":[]}';

/** What a reused fragment slot holds between answers. */
const NO_BYTES = Buffer.alloc(0);

/** Memory of an answer's own, for one kept long (see `answerBody`). */
const ownAllocation = (length: number): Buffer => Buffer.allocUnsafeSlow(length);

/** Whether a body is empty or white space only (then no body was sent); one starting with `{`, as identify bodies do, is told at its first character. */
function isBlank(text: string): boolean {
  return text.charCodeAt(0) !== 0x7b && text.trim() === '';
}

/** The end of a trait in an answer's list, followed by another or ending the list and the answer. */
const TRANSIENT_NEXT = ',"transient":true},';
const TRANSIENT_LAST = ',"transient":true}]}';
const STORED_NEXT = ',"transient":false},';
const STORED_LAST = ',"transient":false}]}';

/** Trait names whose answer opening is kept (up to 255 characters each, a character escaped in at most 6: under 2 MB at the most). */
const MAX_TRAIT_OPENINGS = 1024;

/** Keys up to this many are sorted by insertion (a few comparisons), more by `Array#sort`. */
const INSERTION_SORT_UP_TO = 16;

/**
 * `keys` in the order `Array#sort` puts them (UTF-16 code units), in place: a handful of trait
 * names by insertion, which costs a fraction of the builtin's set-up for so few.
 */
function sortKeys(keys: string[]): void {
  if (keys.length > INSERTION_SORT_UP_TO) {
    keys.sort();
    return;
  }
  for (let index = 1; index < keys.length; index++) {
    const key = keys[index] as string;
    let at = index - 1;
    while (at >= 0 && (keys[at] as string) > key) {
      keys[at + 1] = keys[at] as string;
      at--;
    }
    keys[at + 1] = key;
  }
}

/** Whether `keys` are in the order `Array#sort` puts them (UTF-16 code units). */
function inOrder(keys: readonly string[]): boolean {
  for (let index = 1; index < keys.length; index++) if ((keys[index - 1] as string) > (keys[index] as string)) return false;
  return true;
}

/**
 * Flagsmith's SDK-facing API: environment flags, identify, the environment document and flag
 * analytics, with the field names and shapes Flagsmith's SDKs parse.
 */
export class FlagsmithSdkService {
  private readonly clock: () => number;
  private readonly documents = new WeakMap<ServedEnvironment, string>();
  private readonly fragments: Buffer[] = [];
  private readonly pieces: string[] = [];
  private readonly traitOpenings = new Map<string, string>();
  private readonly slab = new AnswerSlab();
  private readonly slabTake = (length: number): Buffer => this.slab.take(length);

  constructor(
    private readonly registry: EnvironmentRegistry,
    private readonly options: SdkServiceOptions = {},
  ) {
    this.clock = options.clock ?? Date.now;
  }

  private headers(environment: ServedEnvironment): Readonly<Record<string, string>> {
    return environment.sdkHeaders;
  }

  /** `GET /api/v1/flags/` (`?feature=<name>` for one flag). */
  environmentFlags({ environment, kind }: ResolvedKey, featureName?: string): SdkAnswer {
    if (featureName === undefined) return environment.environmentFlagsAnswer(kind);
    const outcome = environment.environmentFlag(featureName, kind);
    return outcome ? jsonAnswer(200, environment.renderer.flag(outcome), this.headers(environment)) : FEATURE_NOT_FOUND();
  }

  /** `POST /api/v1/identities/` with a parsed JSON body. */
  async identifyFromBody(resolved: ResolvedKey, body: unknown, correlationId: () => string): Promise<SdkAnswer> {
    const parsed = parseIdentifyBody(body);
    if ('errors' in parsed) return errorAnswer(400, 'VALIDATION_FAILED', 'The request is invalid', parsed.errors);
    return this.identify(resolved, parsed.request, correlationId);
  }

  /** `GET /api/v1/identities/?identifier=<id>[&transient=true][&feature=<name>]`. */
  async identifyFromQuery(resolved: ResolvedKey, query: URLSearchParams, correlationId: () => string): Promise<SdkAnswer> {
    const identifier = query.get('identifier');
    if (identifier === null || identifier.length === 0 || identifier.length > 2000)
      return errorAnswer(400, 'VALIDATION_FAILED', 'The request is invalid', [{ field: 'identifier', message: 'must be given, 1 to 2000 characters' }]);
    const transient = query.get('transient');
    const feature = query.get('feature') ?? undefined;
    return this.identify(resolved, { identifier, anonymous: false, traits: [], transient: transient === 'true' || transient === '1' }, correlationId, feature);
  }

  /**
   * Evaluates for an identity: its stored traits overlaid with the request's, its overrides;
   * stores what changed unless transient. The hot path: cached identity, assembled from cached
   * flag buffers, no write when nothing changed. Synchronous unless the identity is read from a
   * store that answers asynchronously or something is stored.
   */
  identify(resolved: ResolvedKey, request: IdentifyRequest, correlationId: () => string, featureName?: string): SdkAnswer | Promise<SdkAnswer> {
    if (request.anonymous) return this.identifyAs(resolved, request, null, false, correlationId, featureName);
    const { environment } = resolved;
    // Whether the identity was asked for lately (it was still cached): only then is its answer
    // remembered. Most identities of a large population are asked for now and then, and keeping
    // an answer for each would only churn memory (and the collector) for answers never reused.
    const cached = this.registry.cachedIdentity(environment.id, request.identifier);
    if (cached !== undefined) return this.identifyAs(resolved, request, cached, true, correlationId, featureName);
    const readNow = this.registry.readIdentityNow(environment.id, request.identifier, true);
    if (readNow !== undefined) return this.identifyAs(resolved, request, readNow, false, correlationId, featureName);
    return this.registry.identity(environment.id, request.identifier).then((stored) => this.identifyAs(resolved, request, stored, false, correlationId, featureName));
  }

  /** `identify` once the stored identity (or null) is known; `recent`: it was cached. */
  private identifyAs(
    resolved: ResolvedKey,
    request: IdentifyRequest,
    stored: IdentityDocument | null,
    recent: boolean,
    correlationId: () => string,
    featureName: string | undefined,
  ): SdkAnswer | Promise<SdkAnswer> {
    const { environment, kind } = resolved;
    // The common call repeats the traits the identity already has: its answer depends only on
    // the compiled environment, the stored identity and the key kind, all immutable, so it is
    // rendered once and reused until either changes.
    const sameTraits = stored !== null && !request.transient && this.repeatsStoredTraits(request, stored);
    const repeat = sameTraits && featureName === undefined;
    if (repeat) {
      const memo = environment.identityAnswer(stored, kind);
      if (memo) return memo;
    }
    // Traits a client key may not store are used for this evaluation only: transient, as
    // Flagsmith labels traits it evaluates without persisting them. With nothing stored, every
    // trait is one of the request's, so then all are, with no set of their names to make.
    const allTransient = request.transient || (kind === 'client' && !environment.document.settings.allowClientTraits);
    const everyTraitTransient = allTransient && stored === null;
    let transientKeys: Set<string> | undefined;
    let traits: Readonly<Record<string, TraitValue>>;
    if (sameTraits) {
      // Every trait sent is stored with that value: the stored traits are the ones to evaluate, as they are.
      traits = storedTraits(stored);
      if (allTransient) for (const trait of request.traits) (transientKeys ??= new Set()).add(trait.key);
    } else {
      const overlaid: Record<string, TraitValue> = stored ? { ...storedTraits(stored) } : {};
      for (const trait of request.traits) {
        if (trait.value === null) delete overlaid[trait.key];
        else setOwn(overlaid, trait.key, trait.value);
        if (!everyTraitTransient && (trait.transient || allTransient)) (transientKeys ??= new Set()).add(trait.key);
      }
      traits = overlaid;
    }

    let outcomes: readonly FlagOutcome[] = environment.visible(environment.evaluateIdentity({ identifier: request.identifier, traits }, stored), kind);
    if (featureName !== undefined) {
      outcomes = outcomes.filter((outcome) => outcome.feature.name === featureName);
      if (outcomes.length === 0) return FEATURE_NOT_FOUND();
    }

    const headers = this.headers(environment);
    const tail = environment.document.settings.hideSensitiveData ? NO_TRAITS_TAIL : this.traitsTail(traits, everyTraitTransient || transientKeys);
    if (!request.transient && this.options.writer && this.needsWrite(resolved, request, stored)) {
      return this.persist(resolved, request, stored, correlationId()).then((persisted) =>
        this.answer(resolved, request, stored, outcomes, tail, persisted ? headers : { ...headers, 'x-flagline-traits-persisted': 'false' }, false),
      );
    }
    // Kept only for an identity asked for again and again: one cached once and never asked for
    // again would keep an answer of its own until the old generation is collected.
    return this.answer(resolved, request, stored, outcomes, tail, headers, repeat && recent && this.registry.readOften(environment.id, request.identifier));
  }

  /** The identify answer of these outcomes and traits; `remember`: kept for the identity (an unchanged call repeating its traits). */
  private answer(
    { environment, kind }: ResolvedKey,
    request: IdentifyRequest,
    stored: IdentityDocument | null,
    outcomes: readonly FlagOutcome[],
    tail: string,
    headers: Readonly<Record<string, string>>,
    remember: boolean,
  ): SdkAnswer {
    // One buffer, written as is (a string body would be copied again onto the response head),
    // copied together from the flags' ready-made bytes: no text of the whole answer is built.
    const body = this.answerBody(environment, request.identifier, outcomes, tail, remember);
    if (!remember || stored === null) return jsonAnswer(200, body, headers);
    const answer: SdkAnswer = {
      status: 200,
      body,
      headers: { ...SDK_CORS_HEADERS, ...headers, 'content-type': 'application/json', 'content-length': body.length },
      complete: true,
    };
    environment.rememberIdentityAnswer(stored, kind, answer);
    return answer;
  }

  /**
   * `{"identifier":…,"flags":[…` and `tail`, as one buffer. A remembered answer is kept long: its
   * own allocation then; any other is cut from the answer slab (it lives until it is written).
   */
  private answerBody(environment: ServedEnvironment, identifier: string, outcomes: readonly FlagOutcome[], tail: string, remembered: boolean): Buffer {
    const renderer = environment.renderer;
    // One array reused by every answer: assembly is synchronous, so no two answers share it at once.
    // Its length only grows; the entries used are cleared afterwards so no answer keeps an old revision's bytes.
    const fragments = this.fragments;
    const count = outcomes.length;
    while (fragments.length < count) fragments.push(NO_BYTES);
    for (let index = 0; index < count; index++) fragments[index] = renderer.flagBytes(outcomes[index] as FlagOutcome);
    const body = joinedBytes(`{"identifier":${JSON.stringify(identifier)},"flags":[`, fragments, tail, remembered ? ownAllocation : this.slabTake, count);
    fragments.fill(NO_BYTES, 0, count);
    return body;
  }

  /**
   * The answer remembered for this exact identify body, if the identity it was made for is still
   * the cached stored document; undefined otherwise. Nothing is parsed or allocated: the HTTP
   * front asks this first and calls `identifyRaw` only when it misses.
   */
  rememberedBodyAnswer({ environment, kind }: ResolvedKey, text: string): SdkAnswer | undefined {
    const seen = environment.bodyAnswer(kind, text);
    return seen && this.registry.cachedIdentity(environment.id, seen.identifier) === seen.identity ? seen.answer : undefined;
  }

  /**
   * `POST /api/v1/identities/` from its raw body. SDKs send the same identify body again and
   * again; when this exact body was answered from a remembered answer before, and the identity
   * is still the same stored document, that answer is returned without parsing anything.
   * Synchronous whenever no I/O or evaluation is needed. `rememberedAsked`: the caller asked
   * `rememberedBodyAnswer` for this body already, and it had none.
   */
  identifyRaw(resolved: ResolvedKey, text: string, correlationId: () => string, rememberedAsked = false): SdkAnswer | Promise<SdkAnswer> {
    if (!rememberedAsked) {
      const seen = this.rememberedBodyAnswer(resolved, text);
      if (seen) return seen;
    }
    let body: unknown;
    try {
      // Numbers keep their written form: a trait sent as 5.0 is a float, as it is to Flagsmith.
      body = isBlank(text) ? undefined : parseJsonKeepingFloats(text);
    } catch {
      return errorAnswer(400, 'MALFORMED_JSON', 'The body is not valid JSON');
    }
    const parsed = parseIdentifyBody(body);
    if ('errors' in parsed) return errorAnswer(400, 'VALIDATION_FAILED', 'The request is invalid', parsed.errors);
    const request = parsed.request;
    // `identify` answers a cached identity repeating its traits from the remembered answer itself.
    const answer = this.identify(resolved, request, correlationId);
    return answer instanceof Promise ? answer.then((settled) => this.rememberBody(resolved, text, request, settled)) : this.rememberBody(resolved, text, request, answer);
  }

  /** `answer`, kept for this exact body when it is one remembered for a stored identity (complete): only those are worth keying by body. */
  private rememberBody({ environment, kind }: ResolvedKey, text: string, request: IdentifyRequest, answer: SdkAnswer): SdkAnswer {
    // The identity was read for this request already: looked at again, not counted as another read.
    const identity = answer.complete ? this.registry.cachedIdentity(environment.id, request.identifier, false) : undefined;
    if (identity) environment.rememberBodyAnswer(kind, text, { identifier: request.identifier, identity, answer });
    return answer;
  }

  /** Every request trait is stored with that very value, and none is transient: nothing to evaluate anew or store. */
  private repeatsStoredTraits(request: IdentifyRequest, stored: IdentityDocument): boolean {
    const traits = storedTraits(stored);
    for (const trait of request.traits) {
      if (trait.transient || trait.value === null || !Object.hasOwn(traits, trait.key) || !sameScalar(traits[trait.key], trait.value)) return false;
    }
    return true;
  }

  /**
   * The end of an identify answer, `],"traits":[…]}`, the traits in key order. Joined from its
   * pieces at once: adding them up one by one made a string for every step (about 2.7 KB per
   * answer of 5 traits, a quarter of what an identify allocated).
   */
  private traitsTail(traits: Readonly<Record<string, TraitValue>>, transientKeys: Set<string> | true | undefined): string {
    const keys = Object.keys(traits);
    // Stored traits are usually in key order already: checked in one pass, sorted only if not.
    if (!inOrder(keys)) sortKeys(keys);
    // One array reused by every answer, as `fragments` is, written by index at the length this
    // answer needs (usually the last one's): emptying it and pushing again regrew its storage.
    // Three pieces a trait: its key's opening (made once per key name), its value, and its end
    // with the separator before the next trait or the list's end.
    const pieces = this.pieces;
    const count = 1 + keys.length * 3;
    if (pieces.length !== count) pieces.length = count;
    let at = 0;
    pieces[at++] = keys.length === 0 ? '],"traits":[]}' : '],"traits":[';
    for (let index = 0; index < keys.length; index++) {
      const key = keys[index] as string;
      const last = index === keys.length - 1;
      pieces[at++] = this.traitOpening(key);
      pieces[at++] = traitValueJson(traits[key]);
      pieces[at++] = transientKeys === true || transientKeys?.has(key) === true ? (last ? TRANSIENT_LAST : TRANSIENT_NEXT) : last ? STORED_LAST : STORED_NEXT;
    }
    const tail = pieces.join('');
    // Nothing of this answer is kept alive by the array.
    pieces.fill('');
    return tail;
  }

  /**
   * `{"trait_key":<key>,"trait_value":` for a trait's key, made once per key name: SDKs send the
   * same few names on every call. Names are the clients' text, so the set kept is bounded: it
   * starts again once it holds {@link MAX_TRAIT_OPENINGS} names.
   */
  private traitOpening(key: string): string {
    let opening = this.traitOpenings.get(key);
    if (opening === undefined) {
      if (this.traitOpenings.size >= MAX_TRAIT_OPENINGS) this.traitOpenings.clear();
      opening = `{"trait_key":${JSON.stringify(key)},"trait_value":`;
      this.traitOpenings.set(key, opening);
    }
    return opening;
  }

  /** Whether identifying would change what is stored: a new identity, or a storable trait that differs. */
  private needsWrite({ environment, kind }: ResolvedKey, request: IdentifyRequest, stored: IdentityDocument | null): boolean {
    if (stored === null) return true;
    if (kind === 'client' && !environment.document.settings.allowClientTraits) return false;
    const traits = storedTraits(stored);
    for (const trait of request.traits) {
      if (trait.transient) continue;
      const has = Object.hasOwn(traits, trait.key);
      if (trait.value === null ? has : !has || !sameScalar(traits[trait.key], trait.value)) return true;
    }
    return false;
  }

  /**
   * Stores the identity and the traits it may keep (only when something changes): client keys
   * store traits only where the environment allows client traits. A failed write does not fail
   * the evaluation; the response says so and the next identify call writes again.
   */
  private async persist(resolved: ResolvedKey, request: IdentifyRequest, stored: IdentityDocument | null, correlationId: string): Promise<boolean> {
    const { environment, kind } = resolved;
    const mayStoreTraits = kind === 'server' || environment.document.settings.allowClientTraits;
    const toStore: Record<string, TraitValue | null> = {};
    if (mayStoreTraits) for (const trait of request.traits) if (!trait.transient) setOwn(toStore, trait.key, trait.value);
    const current = stored === null ? null : storedTraits(stored);
    const changes = Object.entries(toStore).filter(([key, value]) =>
      value === null ? current !== null && Object.hasOwn(current, key) : current === null || !Object.hasOwn(current, key) || !sameScalar(current[key], value),
    );
    if (stored !== null && changes.length === 0) return true;
    const traits: Record<string, TraitValue | null> = {};
    for (const [key, value] of changes) setOwn(traits, key, value);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.options.writer?.record({
          environmentId: environment.id,
          identifier: request.identifier,
          traits,
          actor: { keyKind: kind, keyPrefix: kind === 'client' ? environment.document.apiKey : 'ser.' },
          correlationId,
          // Not found just now: a new identity, unless a concurrent call stored it (then a retry reads it).
          ...(stored === null && attempt === 1 ? { absent: true } : {}),
        });
        return true;
      } catch (error) {
        // Simultaneous identify calls for one identity race for its stream; the traits merge, so
        // the loser writes again (the writer reloads the identity on each attempt).
        if (error instanceof ConcurrencyError && attempt < MAX_WRITE_ATTEMPTS) continue;
        this.options.onWriteError?.(error);
        return false;
      }
    }
  }

  /**
   * `GET /api/v1/environment-document/`: server keys only. `Last-Modified` has second precision,
   * so while the document is younger than a couple of seconds (it could change again within the
   * same second) it is dated a second earlier: a client never takes a 304 for a change it missed.
   */
  environmentDocument({ environment, kind }: ResolvedKey, ifModifiedSince?: string): SdkAnswer {
    if (kind !== 'server') return errorAnswer(403, 'SERVER_KEY_REQUIRED', 'The environment document needs a server-side key (ser.…)');
    const updatedAt = Date.parse(environment.document.updatedAt);
    const settled = this.clock() - updatedAt >= 2000;
    const lastModified = Math.floor(updatedAt / 1000) * 1000 - (settled ? 0 : 1000);
    const headers = { ...this.headers(environment), 'last-modified': new Date(lastModified).toUTCString() };
    if (ifModifiedSince !== undefined) {
      const since = Date.parse(ifModifiedSince);
      if (!Number.isNaN(since) && settled && lastModified <= since) return { status: 304, body: null, headers };
    }
    let body = this.documents.get(environment);
    if (body === undefined) {
      body = JSON.stringify(toFlagsmithEnvironmentDocument(environment.document));
      this.documents.set(environment, body);
    }
    return jsonAnswer(200, body, headers);
  }

  /** `POST /api/v1/analytics/flags/`: `{"<feature name>": <count>}`; unknown names and non-integer counts are dropped. */
  async analytics({ environment }: ResolvedKey, body: unknown): Promise<SdkAnswer> {
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      return errorAnswer(400, 'VALIDATION_FAILED', 'The request is invalid', [{ field: 'body', message: 'must be an object of feature names to counts' }]);
    const counts: Record<string, number> = {};
    for (const [name, count] of Object.entries(body as Record<string, unknown>)) {
      if (typeof count === 'number' && Number.isSafeInteger(count) && count > 0 && environment.compiled.featureIndexByName.has(name)) setOwn(counts, name, count);
    }
    if (this.options.analytics && Object.keys(counts).length > 0) {
      await this.options.analytics.record(environment.id, new Date(this.clock()).toISOString().slice(0, 10), counts);
    }
    return { status: 200, body: null };
  }
}
