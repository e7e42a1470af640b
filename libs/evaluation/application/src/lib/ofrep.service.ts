import type { IdentityDocument } from '@flagline/contracts';
import type { FlagOutcome } from '@flagline/evaluation-engine';
import { FloatNumber } from '@flagline/python-compat';
import { createHash } from 'node:crypto';
import type { EnvironmentRegistry, ResolvedKey } from './environment-registry';
import type { TraitValue } from './identify-request';
import { storedTraits } from './identity-traits';
import type { SdkAnswer } from './sdk-answer';

/** OpenFeature error codes used by OFREP responses. */
export type OfrepErrorCode = 'FLAG_NOT_FOUND' | 'PARSE_ERROR' | 'TARGETING_KEY_MISSING' | 'INVALID_CONTEXT' | 'GENERAL';

type Evaluated = { key: string; value: unknown; reason: string; variant?: string; metadata: Record<string, string | number | boolean> };
type Failed = { key: string; errorCode: OfrepErrorCode; errorDetails: string };

interface ParsedContext {
  readonly targetingKey: string | null;
  readonly traits: Record<string, TraitValue>;
}

const json = (status: number, body: unknown, headers?: Record<string, string>): SdkAnswer => ({
  status,
  body: JSON.stringify(body),
  ...(headers ? { headers } : {}),
});

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** OpenFeature's resolution reasons that Flagsmith's reasons map to. */
export type OfrepReason = 'STATIC' | 'DEFAULT' | 'TARGETING_MATCH' | 'SPLIT' | 'DISABLED' | 'ERROR';

/**
 * The OFREP reason of an evaluated flag: DISABLED for a disabled flag, otherwise Flagsmith's
 * reason by its leading word (`STATIC`, `DEFAULT`, `TARGETING_MATCH; segment=…`, `SPLIT; weight=…`,
 * `ERROR; code=…`); a reason of no known kind is DEFAULT.
 */
export function ofrepReason(outcome: Pick<FlagOutcome, 'enabled' | 'reason'>): OfrepReason {
  if (!outcome.enabled) return 'DISABLED';
  const kind = outcome.reason.split(';', 1)[0]?.trim() ?? '';
  switch (kind) {
    case 'STATIC':
    case 'TARGETING_MATCH':
    case 'SPLIT':
    case 'ERROR':
      return kind;
    default:
      return 'DEFAULT';
  }
}

/**
 * Flagsmith flags in OpenFeature's terms: the value is the flag's value (an empty string is a
 * string value), or its enabled state when it has none; `variant` only when the flag has one.
 * Flagsmith's own reason and the enabled state travel in the metadata.
 */
function toOfrep(outcome: FlagOutcome, featureId: number): Evaluated {
  const raw = outcome.value;
  const value = raw === null || raw === undefined ? outcome.enabled : raw;
  return {
    key: outcome.feature.name,
    value,
    reason: ofrepReason(outcome),
    ...(typeof outcome.variantKey === 'string' ? { variant: outcome.variantKey } : {}),
    metadata: { enabled: outcome.enabled, flagsmithReason: outcome.reason, featureId },
  };
}

/** The OpenFeature Remote Evaluation Protocol over the same evaluation as the Flagsmith API. */
export class OfrepService {
  constructor(private readonly registry: EnvironmentRegistry) {}

  /** `context.targetingKey` is the identity; every other scalar attribute is a trait for this evaluation only. */
  private parse(body: unknown): ParsedContext | Failed {
    if (body !== undefined && !isRecord(body)) return { key: '', errorCode: 'INVALID_CONTEXT', errorDetails: 'The request body must be a JSON object' };
    const context = body?.['context'];
    if (context === undefined || context === null) return { targetingKey: null, traits: {} };
    if (!isRecord(context)) return { key: '', errorCode: 'INVALID_CONTEXT', errorDetails: 'context must be an object' };
    const targetingKey = context['targetingKey'];
    if (targetingKey !== undefined && targetingKey !== null && (typeof targetingKey !== 'string' || targetingKey.length > 2000))
      return { key: '', errorCode: 'INVALID_CONTEXT', errorDetails: 'context.targetingKey must be a string of at most 2000 characters' };
    const traits: Record<string, TraitValue> = {};
    for (const [name, value] of Object.entries(context)) {
      if (name === 'targetingKey') continue;
      if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value)) || value instanceof FloatNumber)
        Object.defineProperty(traits, name, { value, enumerable: true, writable: true, configurable: true });
    }
    return { targetingKey: typeof targetingKey === 'string' && targetingKey !== '' ? targetingKey : null, traits };
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
    return { ...(stored ? storedTraits(stored) : {}), ...context.traits };
  }

  /**
   * The one flag `key` as {@link outcomes} would list it, evaluating only that flag (and what it
   * depends on); `undefined` when this key does not see such a flag.
   */
  private outcome({ environment, kind }: ResolvedKey, context: ParsedContext, key: string): FlagOutcome | undefined | Promise<FlagOutcome | undefined> {
    const identifier = context.targetingKey;
    if (identifier === null) return environment.environmentFlag(key, kind);
    if (!environment.compiled.featureIndexByName.has(key)) return undefined;
    return this.withStored(environment.id, identifier, (stored) => environment.evaluateIdentityFeature({ identifier, traits: this.traits(stored, context) }, stored, key, kind));
  }

  /** Without a targeting key, a flag whose value depends on the identity cannot be evaluated. */
  private needsTargetingKey(resolved: ResolvedKey, outcome: FlagOutcome, context: ParsedContext): boolean {
    return context.targetingKey === null && resolved.environment.dependsOnIdentity(outcome.feature.index);
  }

  private result(resolved: ResolvedKey, outcome: FlagOutcome, context: ParsedContext): Evaluated | Failed {
    if (this.needsTargetingKey(resolved, outcome, context))
      return { key: outcome.feature.name, errorCode: 'TARGETING_KEY_MISSING', errorDetails: 'This flag is split by identity: give context.targetingKey' };
    return toOfrep(outcome, resolved.environment.features[outcome.feature.index]?.id ?? 0);
  }

  /** `POST /ofrep/v1/evaluate/flags/{key}`; synchronous when the identity is at hand. */
  evaluateFlag(resolved: ResolvedKey, key: string, body: unknown): SdkAnswer | Promise<SdkAnswer> {
    const context = this.parse(body);
    if ('errorCode' in context) return json(400, { ...context, key });
    const answer = (outcome: FlagOutcome | undefined): SdkAnswer => {
      if (!outcome) return json(404, { key, errorCode: 'FLAG_NOT_FOUND', errorDetails: `Flag "${key}" not found in this environment` });
      const result = this.result(resolved, outcome, context);
      return json('errorCode' in result ? 400 : 200, result);
    };
    const outcome = this.outcome(resolved, context, key);
    return outcome instanceof Promise ? outcome.then(answer) : answer(outcome);
  }

  /** `POST /ofrep/v1/evaluate/flags`, with `ETag` / `If-None-Match` → 304; synchronous when the identity is at hand. */
  evaluateAll(resolved: ResolvedKey, body: unknown, ifNoneMatch?: string): SdkAnswer | Promise<SdkAnswer> {
    const context = this.parse(body);
    if ('errorCode' in context) return json(400, { errorCode: context.errorCode, errorDetails: context.errorDetails });
    const answer = (outcomes: readonly FlagOutcome[]): SdkAnswer => {
      const flags = outcomes.map((outcome) => this.result(resolved, outcome, context));
      const text = JSON.stringify({ flags });
      const etag = `"${createHash('sha1').update(text).digest('base64url')}"`;
      const headers = { etag };
      if (ifNoneMatch !== undefined && ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag)) return { status: 304, body: null, headers };
      return { status: 200, body: text, headers };
    };
    const outcomes = this.outcomes(resolved, context);
    return outcomes instanceof Promise ? outcomes.then(answer) : answer(outcomes);
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
