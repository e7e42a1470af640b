import { identityUuidFor, type EnvironmentDocument, type FeatureDocument, type IdentityDocument } from '@flagline/contracts';
import {
  compileEnvironment,
  compileIdentityOverrides,
  evaluate,
  evaluateFeatures,
  explainEvaluation,
  withChangedDefaults,
  type ExplainedEvaluation,
  type FeatureContext,
  type CompiledEnvironment,
  type CompiledIdentityOverrides,
  type FlagOutcome,
  type IdentityInput,
} from '@flagline/evaluation-engine';
import { LRUCache } from 'lru-cache';
import { sharedFeatureContext, toEvaluationContext, toIdentityOverrideContexts } from './evaluation-context.mapper';
import { FlagRenderer } from './flagsmith-flag.renderer';
import { SDK_CORS_HEADERS, type SdkAnswer } from './sdk-answer';

/**
 * The UUID an identity is stored under: the first 32 hex digits of SHA-256 of
 * `<environment id>\0<identifier>`, formatted as a UUID. It must stay equal to what the admin side
 * derives (its identity id and identity UUID), as stored identities carry that value.
 */

/** An identify answer remembered for an exact request body, valid while the identity is this document. */
export interface RememberedBody {
  readonly identifier: string;
  readonly identity: IdentityDocument;
  readonly answer: SdkAnswer;
}

/**
 * Bytes of answers remembered by exact body, per environment and kind of key: bounded by size, not
 * by count, since an answer grows with the environment's flags (about 7 KB at the benchmarks' 20
 * flags and 5 traits: 1,000 of them rotating fit). Counted by entries, 20,000 such answers had
 * held about 140 MB.
 */
export const REMEMBERED_BODY_BYTES = 16 * 1024 * 1024;
const MAX_REMEMBERED_BODY_LENGTH = 4096;
/** Bytes of answers kept per identity document (an unchanged call repeating its stored traits), per environment. */
export const REMEMBERED_IDENTITY_BYTES = 16 * 1024 * 1024;
/** What an entry holds beside its body and answer bytes: the entry, its key's string and the answer's headers. */
const REMEMBERED_ENTRY_OVERHEAD = 512;

/** The bytes a remembered body's entry keeps alive, for its cache's bound. */
function rememberedBytes(remembered: RememberedBody, body: string): number {
  const answer = remembered.answer.body;
  return REMEMBERED_ENTRY_OVERHEAD + body.length + (answer === null ? 0 : answer.length);
}

/** The bytes an identity document's kept answers hold (the document itself is the registry's). */
function identityAnswerBytes(answers: Partial<Record<KeyKind, SdkAnswer>>): number {
  let bytes = REMEMBERED_ENTRY_OVERHEAD;
  for (const answer of [answers.client, answers.server]) if (answer?.body) bytes += answer.body.length;
  return bytes;
}

/** Which kind of environment key a request used. */
export type KeyKind = 'client' | 'server';

/**
 * One environment at one revision, ready to serve: compiled once, with everything that does
 * not depend on the identity precomputed (environment flags per key kind, feature visibility).
 */
export class ServedEnvironment {
  readonly compiled: CompiledEnvironment;
  readonly renderer: FlagRenderer;
  /** Features in the compiled order (parallel to `compiled.features`). */
  readonly features: readonly FeatureDocument[];
  private readonly serverOnly: readonly boolean[];
  /** `features` holds the document's features in the document's order (a patch needs it so, and keeps it so). */
  private readonly alignedWithDocument: boolean;
  private readonly hideDisabled: boolean;
  private readonly environmentFlagAnswers = new Map<KeyKind, SdkAnswer>();
  private readonly environmentOutcomes: readonly FlagOutcome[];
  private readonly overridesCache = new WeakMap<IdentityDocument, CompiledIdentityOverrides>();
  /**
   * Answers kept per identity document, bounded by bytes like those kept by body: by the documents
   * alone (a WeakMap) it was every cached identity's, 10,000 answers of about 7 KB each. Made at the
   * first answer kept.
   */
  private identityAnswers: LRUCache<IdentityDocument, Partial<Record<KeyKind, SdkAnswer>>> | undefined;
  /**
   * Per kind of key, so a lookup hashes the body as it arrived, with nothing concatenated to it;
   * made at the first answer remembered (the cache allocates its bounds up front).
   */
  private readonly bodyAnswers: Partial<Record<KeyKind, LRUCache<string, RememberedBody>>> = {};
  /** Headers every SDK answer for this environment carries. */
  readonly sdkHeaders: Readonly<Record<string, string>>;

  /**
   * @param previous - this environment at an earlier revision: what did not change between the two
   *   documents (the same objects, as the standalone app's read models share them) is not compiled
   *   or rendered again.
   */
  constructor(
    readonly document: EnvironmentDocument,
    previous?: ServedEnvironment,
  ) {
    const patched = previous && ServedEnvironment.patchDefaults(previous, document);
    if (patched) {
      ({ compiled: this.compiled, features: this.features, serverOnly: this.serverOnly, outcomes: this.environmentOutcomes } = patched);
      this.alignedWithDocument = true;
    } else {
      const { context, order } = toEvaluationContext(document);
      this.compiled = compileEnvironment(context, order, previous?.compiled);
      const byName = new Map(document.features.map(({ feature }) => [feature.name, feature]));
      this.features = this.compiled.features.map((feature) => byName.get(feature.name) as FeatureDocument);
      this.serverOnly = this.features.map((feature) => feature.isServerKeyOnly);
      this.alignedWithDocument = this.features.length === document.features.length && this.features.every((feature, index) => document.features[index]?.feature === feature);
      this.environmentOutcomes = evaluate(this.compiled, null).flags;
    }
    this.hideDisabled = document.settings.hideDisabledFlags ?? document.project.hideDisabledFlags;
    this.renderer = new FlagRenderer(document, this.features, previous?.renderer);
    this.sdkHeaders = { 'x-flagsmith-document-updated-at': String(Date.parse(document.updatedAt) / 1000) };
  }

  /**
   * The new revision as a patch of the previous one, when all that changed is environment
   * defaults (a toggle, a new value) and features added at the end (a new feature): the cost is
   * what changed, not the environment's size. `undefined` for any other change (segments, the
   * environment's key or name, features removed, renamed or moved, conditions that read flags),
   * which compiles the document instead.
   */
  private static patchDefaults(
    previous: ServedEnvironment,
    document: EnvironmentDocument,
  ): { compiled: CompiledEnvironment; features: FeatureDocument[]; serverOnly: boolean[]; outcomes: FlagOutcome[] } | undefined {
    const before = previous.document;
    const entries = document.features;
    const was = before.features;
    if (!previous.compiled.defaultsPatchable || !previous.alignedWithDocument || entries.length < was.length) return undefined;
    if (before.environmentId !== document.environmentId || before.apiKey !== document.apiKey || before.name !== document.name) return undefined;
    if (before.segments.length !== document.segments.length || before.segments.some((segment, index) => document.segments[index] !== segment)) return undefined;
    const replaced: { index: number; context: FeatureContext }[] = [];
    // Documents read afresh (JSON from Redis) share no parts: every entry looks changed, and a
    // compile (which still reuses unchanged compiled states) is cheaper than a patch of them all.
    const patchLimit = Math.max(16, before.features.length >> 3);
    // Entries are compared by identity alone: the previous compile is aligned with its document, so
    // an entry left as it was is still served as it was (no property of it is read).
    for (let index = 0; index < was.length; index++) {
      const entry = entries[index];
      const previousEntry = was[index];
      if (entry === previousEntry) continue;
      if (previousEntry === undefined || entry === undefined || entry.feature.name !== previousEntry.feature.name) return undefined;
      if (replaced.length >= patchLimit) return undefined;
      replaced.push({ index, context: sharedFeatureContext(entry.feature, entry.state) });
    }
    // A loop, not slice(): slicing a frozen array takes a slow path.
    const added: EnvironmentDocument['features'][number][] = [];
    for (let index = before.features.length; index < entries.length; index++) added.push(entries[index] as EnvironmentDocument['features'][number]);
    const compiled = withChangedDefaults(previous.compiled, { replaced, appended: added.map(({ feature, state }) => sharedFeatureContext(feature, state)) });
    if (compiled === undefined) return undefined;
    const changed = [...replaced.map(({ index }) => index), ...added.map((_, offset) => before.features.length + offset)];
    const features = previous.features.slice();
    const serverOnly = previous.serverOnly.slice();
    const outcomes = previous.environmentOutcomes.slice();
    const fresh = evaluateFeatures(compiled, null, changed.map((index) => entries[index]?.feature.name ?? ''));
    for (const [position, index] of changed.entries()) {
      const feature = entries[index]?.feature;
      const outcome = fresh[position];
      if (feature === undefined || outcome === undefined) return undefined;
      features[index] = feature;
      serverOnly[index] = feature.isServerKeyOnly;
      outcomes[index] = outcome;
    }
    return { compiled, features, serverOnly, outcomes };
  }

  get id(): number {
    return this.document.environmentId;
  }

  get revision(): number {
    return this.document.revision;
  }

  /**
   * Outcomes a key of this kind may see: server-key-only features and (if so set) disabled flags
   * removed. When there is nothing to remove (a server key, disabled flags shown), the outcomes
   * given, not a copy.
   */
  visible(outcomes: readonly FlagOutcome[], kind: KeyKind): readonly FlagOutcome[] {
    if (kind === 'server' && !this.hideDisabled) return outcomes;
    const out: FlagOutcome[] = [];
    for (const outcome of outcomes) if (this.shows(outcome, kind)) out.push(outcome);
    return out;
  }

  /** Whether a key of this kind sees this outcome (see {@link visible}). */
  private shows(outcome: FlagOutcome, kind: KeyKind): boolean {
    return !(kind === 'client' && this.serverOnly[outcome.feature.index] === true) && !(this.hideDisabled && !outcome.enabled);
  }

  /** The whole `GET /api/v1/flags/` answer, body and headers, identical for every request with the same kind of key. */
  environmentFlagsAnswer(kind: KeyKind): SdkAnswer {
    let answer = this.environmentFlagAnswers.get(kind);
    if (answer === undefined) {
      const body = Buffer.from(`[${this.visible(this.environmentOutcomes, kind).map((outcome) => this.renderer.flag(outcome)).join(',')}]`);
      answer = {
        status: 200,
        body,
        headers: { ...SDK_CORS_HEADERS, ...this.sdkHeaders, 'content-type': 'application/json', 'content-length': body.length },
        complete: true,
      };
      this.environmentFlagAnswers.set(kind, answer);
    }
    return answer;
  }

  environmentFlag(name: string, kind: KeyKind): FlagOutcome | undefined {
    const index = this.compiled.featureIndexByName.get(name);
    const outcome = index === undefined ? undefined : this.environmentOutcomes[index];
    return outcome && this.shows(outcome, kind) ? outcome : undefined;
  }

  /** A remembered identify answer for a stored identity whose call brought no new traits. */
  identityAnswer(identity: IdentityDocument, kind: KeyKind): SdkAnswer | undefined {
    return this.identityAnswers?.get(identity)?.[kind];
  }

  /** Valid as long as this compile and that identity document live (either changing makes a new object); the least recently used go past the bound. */
  rememberIdentityAnswer(identity: IdentityDocument, kind: KeyKind, answer: SdkAnswer): void {
    const kept = (this.identityAnswers ??= new LRUCache({ maxSize: REMEMBERED_IDENTITY_BYTES, sizeCalculation: identityAnswerBytes }));
    // A new record each time: its size is taken when it is set.
    kept.set(identity, { ...kept.get(identity), [kind]: answer });
  }

  /** An answer remembered for an exact identify body (see `FlagsmithSdkService.identifyRaw`). */
  bodyAnswer(kind: KeyKind, body: string): RememberedBody | undefined {
    return this.bodyAnswers[kind]?.get(body);
  }

  /** Bounded: past the limit, the least recently used entries go (they are only a shortcut). */
  rememberBodyAnswer(kind: KeyKind, body: string, remembered: RememberedBody): void {
    if (body.length > MAX_REMEMBERED_BODY_LENGTH) return;
    // Bounded by bytes (`maxSize`), not by `max`: a `max` also makes lru-cache allocate every slot up
    // front, paid again by every revision of every environment; this grows as it is used.
    (this.bodyAnswers[kind] ??= new LRUCache({ maxSize: REMEMBERED_BODY_BYTES, sizeCalculation: rememberedBytes })).set(body, remembered);
  }

  /** Outcomes without an identity (what `GET /api/v1/flags/` serves). */
  get anonymousOutcomes(): readonly FlagOutcome[] {
    return this.environmentOutcomes;
  }

  /** Whether a feature's default is split between variants, so its value needs an identity to bucket. */
  dependsOnIdentity(featureIndex: number): boolean {
    return (this.compiled.defaults[featureIndex]?.variants.length ?? 0) > 0;
  }

  /**
   * Evaluates for an identity; `stored` brings the identity's overrides. Without the composite key,
   * identities hash by their UUID, which is known before the identity is stored, so its first
   * evaluation buckets like every later one.
   */
  evaluateIdentity(identity: IdentityInput, stored: IdentityDocument | null): readonly FlagOutcome[] {
    const overrides = stored && stored.overrides.length > 0 ? this.overridesFor(stored) : undefined;
    return evaluate(this.compiled, this.keyed(identity, stored), overrides).flags;
  }

  /**
   * The outcome {@link evaluateIdentity} gives feature `name`, when a key of this kind sees it;
   * `undefined` for a feature the environment lacks or hides from this key. Only that feature is
   * evaluated: the segments overriding it and, through their conditions, the flags it depends on.
   */
  evaluateIdentityFeature(identity: IdentityInput, stored: IdentityDocument | null, name: string, kind: KeyKind): FlagOutcome | undefined {
    const index = this.compiled.featureIndexByName.get(name);
    if (index === undefined || (kind === 'client' && this.serverOnly[index] === true)) return undefined;
    const overrides = stored && stored.overrides.length > 0 ? this.overridesFor(stored) : undefined;
    const [outcome] = evaluateFeatures(this.compiled, this.keyed(identity, stored), [name], overrides);
    return outcome && this.shows(outcome, kind) ? outcome : undefined;
  }

  /**
   * {@link evaluateIdentity} explained: the same evaluation (the engine's serving path with a
   * tracer), with why each flag got its answer. Without an identity, the environment flags explained.
   */
  explain(identity: IdentityInput | null, stored: IdentityDocument | null): ExplainedEvaluation {
    if (identity === null) return explainEvaluation(this.compiled, null);
    const overrides = stored && stored.overrides.length > 0 ? this.overridesFor(stored) : undefined;
    return explainEvaluation(this.compiled, this.keyed(identity, stored), overrides);
  }

  /** The identity with the key it hashes by: its UUID unless the environment hashes by the composite key. */
  private keyed(identity: IdentityInput, stored: IdentityDocument | null): IdentityInput {
    const key = this.document.settings.useIdentityCompositeKeyForHashing ? undefined : (stored?.identityUuid ?? identityUuidFor(this.id, identity.identifier));
    return key === undefined ? identity : { ...identity, key };
  }

  private overridesFor(identity: IdentityDocument): CompiledIdentityOverrides {
    let compiled = this.overridesCache.get(identity);
    if (compiled === undefined) {
      compiled = compileIdentityOverrides(this.compiled, toIdentityOverrideContexts(this.document, identity));
      this.overridesCache.set(identity, compiled);
    }
    return compiled;
  }
}
