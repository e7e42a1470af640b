import type { IdentityDocument } from '@flagline/contracts';
import type { FlagOutcome } from '@flagline/evaluation-engine';
import { FloatNumber } from '@flagline/python-compat';
import type { EnvironmentRegistry, ResolvedKey } from './environment-registry';
import type { TraitValue } from './identify-request';
import { storedTraits } from './identity-traits';
import { OfrepFlagRenderer, targetingKeyMissing } from './ofrep-flag.renderer';
import type { SdkAnswer } from './sdk-answer';
import type { ServedEnvironment } from './served-environment';

export { ofrepReason, type OfrepReason } from './ofrep-flag.renderer';

/** OpenFeature error codes used by OFREP responses. */
export type OfrepErrorCode = 'FLAG_NOT_FOUND' | 'PARSE_ERROR' | 'TARGETING_KEY_MISSING' | 'INVALID_CONTEXT' | 'GENERAL';

type Failed = { key: string; errorCode: OfrepErrorCode; errorDetails: string };

interface ParsedContext {
  readonly targetingKey: string | null;
  /** The request's `context` object (its scalar attributes other than `targetingKey` are traits), or null. */
  readonly attributes: Readonly<Record<string, unknown>> | null;
}

/** An attribute usable as a trait: a string, a boolean, a finite number or a float. */
function isTraitValue(value: unknown): value is TraitValue {
  return typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value)) || value instanceof FloatNumber;
}

const json = (status: number, body: unknown, headers?: Record<string, string>): SdkAnswer => ({
  status,
  body: JSON.stringify(body),
  ...(headers ? { headers } : {}),
});

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The OpenFeature Remote Evaluation Protocol over the same evaluation as the Flagsmith API. */
export class OfrepService {
  /** Per environment revision, its flags' OFREP bytes. */
  private readonly renderers = new WeakMap<ServedEnvironment, OfrepFlagRenderer>();

  constructor(private readonly registry: EnvironmentRegistry) {}

  private renderer(environment: ServedEnvironment): OfrepFlagRenderer {
    let renderer = this.renderers.get(environment);
    if (renderer === undefined) this.renderers.set(environment, (renderer = new OfrepFlagRenderer(environment)));
    return renderer;
  }

  /** `context.targetingKey` is the identity; every other scalar attribute is a trait for this evaluation only. */
  private parse(body: unknown): ParsedContext | Failed {
    if (body !== undefined && !isRecord(body)) return { key: '', errorCode: 'INVALID_CONTEXT', errorDetails: 'The request body must be a JSON object' };
    const context = body?.['context'];
    if (context === undefined || context === null) return { targetingKey: null, attributes: null };
    if (!isRecord(context)) return { key: '', errorCode: 'INVALID_CONTEXT', errorDetails: 'context must be an object' };
    const targetingKey = context['targetingKey'];
    if (targetingKey !== undefined && targetingKey !== null && (typeof targetingKey !== 'string' || targetingKey.length > 2000))
      return { key: '', errorCode: 'INVALID_CONTEXT', errorDetails: 'context.targetingKey must be a string of at most 2000 characters' };
    // The traits are taken from the context only once the identity is known (see `traits`): an
    // evaluation without a targeting key reads none, and one with it builds a single object.
    return { targetingKey: typeof targetingKey === 'string' && targetingKey !== '' ? targetingKey : null, attributes: context };
  }

  /**
   * The stored identity: from the registry's cache or a synchronous read where there is one (no
   * promise then), else read from the store.
   */
  private stored(environmentId: number, identifier: string): IdentityDocument | null | Promise<IdentityDocument | null> {
    const cached = this.registry.cachedIdentity(environmentId, identifier);
    if (cached !== undefined) return cached;
    const readNow = this.registry.readIdentityNow(environmentId, identifier, true);
    return readNow !== undefined ? readNow : this.registry.identity(environmentId, identifier);
  }

  /** `then` applied to the stored identity, at once when it is at hand. */
  private withStored<T>(environmentId: number, identifier: string, then: (stored: IdentityDocument | null) => T): T | Promise<T> {
    const stored = this.stored(environmentId, identifier);
    return stored instanceof Promise ? stored.then(then) : then(stored);
  }

  /** Every flag this key sees, for the context; synchronous when the identity is at hand. */
  private outcomes({ environment, kind }: ResolvedKey, context: ParsedContext): readonly FlagOutcome[] | Promise<readonly FlagOutcome[]> {
    // Without an identity there are no traits to match: the environment's own evaluation applies.
    const identifier = context.targetingKey;
    if (identifier === null) return environment.visible(environment.anonymousOutcomes, kind);
    return this.withStored(environment.id, identifier, (stored) => environment.visible(environment.evaluateIdentity({ identifier, traits: this.traits(stored, context) }, stored), kind));
  }

  /** The stored identity's traits, with the context's attributes over them for this evaluation only. */
  private traits(stored: IdentityDocument | null, context: ParsedContext): Record<string, TraitValue> {
    const traits: Record<string, TraitValue> = stored ? { ...storedTraits(stored) } : {};
    const attributes = context.attributes;
    if (attributes === null) return traits;
    const names = Object.keys(attributes);
    for (let index = 0; index < names.length; index++) {
      const name = names[index] as string;
      const value = attributes[name];
      if (name === 'targetingKey' || !isTraitValue(value)) continue;
      // An own property even when named __proto__ (assigning that one would set the prototype).
      if (name === '__proto__') Object.defineProperty(traits, name, { value, enumerable: true, writable: true, configurable: true });
      else traits[name] = value;
    }
    return traits;
  }

  /**
   * The one flag `key` as {@link outcomes} would list it, evaluating only that flag (and what it
   * depends on); `undefined` when this key does not see such a flag.
   */
  private outcome({ environment, kind }: ResolvedKey, context: ParsedContext, key: string): FlagOutcome | undefined | Promise<FlagOutcome | undefined> {
    const identifier = context.targetingKey;
    if (identifier === null) return environment.environmentFlag(key, kind);
    if (!environment.compiled.featureIndexByName.has(key)) return undefined;
    // No closure unless the identity must be waited for.
    const stored = this.stored(environment.id, identifier);
    if (stored instanceof Promise) return stored.then((document) => environment.evaluateIdentityFeature({ identifier, traits: this.traits(document, context) }, document, key, kind));
    return environment.evaluateIdentityFeature({ identifier, traits: this.traits(stored, context) }, stored, key, kind);
  }

  /** Without a targeting key, a flag whose value depends on the identity cannot be evaluated. */
  private needsTargetingKey(resolved: ResolvedKey, outcome: FlagOutcome, context: ParsedContext): boolean {
    return context.targetingKey === null && resolved.environment.dependsOnIdentity(outcome.feature.index);
  }

  /** `POST /ofrep/v1/evaluate/flags/{key}`; synchronous when the identity is at hand. */
  evaluateFlag(resolved: ResolvedKey, key: string, body: unknown): SdkAnswer | Promise<SdkAnswer> {
    const context = this.parse(body);
    if ('errorCode' in context) return json(400, { ...context, key });
    const outcome = this.outcome(resolved, context, key);
    return outcome instanceof Promise ? outcome.then((settled) => this.flagAnswer(resolved, key, context, settled)) : this.flagAnswer(resolved, key, context, outcome);
  }

  private flagAnswer(resolved: ResolvedKey, key: string, context: ParsedContext, outcome: FlagOutcome | undefined): SdkAnswer {
    if (!outcome) return json(404, { key, errorCode: 'FLAG_NOT_FOUND', errorDetails: `Flag "${key}" not found in this environment` });
    if (this.needsTargetingKey(resolved, outcome, context)) return json(400, targetingKeyMissing(outcome.feature.name));
    // The outcome's answer, made once per environment revision: no object or text per request.
    return this.renderer(resolved.environment).answer(outcome);
  }

  /** `POST /ofrep/v1/evaluate/flags`, with `ETag` / `If-None-Match` → 304; synchronous when the identity is at hand. */
  evaluateAll(resolved: ResolvedKey, body: unknown, ifNoneMatch?: string): SdkAnswer | Promise<SdkAnswer> {
    const context = this.parse(body);
    if ('errorCode' in context) return json(400, { errorCode: context.errorCode, errorDetails: context.errorDetails });
    const answer = (outcomes: readonly FlagOutcome[]): SdkAnswer => this.bulkAnswer(resolved, outcomes, context, ifNoneMatch);
    const outcomes = this.outcomes(resolved, context);
    return outcomes instanceof Promise ? outcomes.then(answer) : answer(outcomes);
  }

  /** The answer kept for these outcomes (see `OfrepFlagRenderer#bulk`), or 304 when the client has it. */
  private bulkAnswer({ environment }: ResolvedKey, outcomes: readonly FlagOutcome[], context: ParsedContext, ifNoneMatch: string | undefined): SdkAnswer {
    const { answer, etag } = this.renderer(environment).bulk(outcomes, context.targetingKey === null);
    if (ifNoneMatch !== undefined && ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag)) return { status: 304, body: null, headers: { etag } };
    return answer;
  }

  /** `GET /ofrep/v1/configuration`. */
  configuration(): SdkAnswer {
    return json(200, {
      name: 'flagline',
      capabilities: {
        cacheInvalidation: { polling: { enabled: true, minPollingIntervalMs: 1000 } },
        flagEvaluation: { supportedTypes: ['boolean', 'string', 'int', 'float'] },
      },
    });
  }
}
