import type { EnvironmentDocument, IdentityDocument } from '@flagline/contracts';
import type { FlagExplanation } from '@flagline/evaluation-engine';
import { parseIdentifyBody, type IdentifyRequest, type TraitValue } from './identify-request';
import { storedTraits } from './identity-traits';
import { ofrepReason, type OfrepReason } from './ofrep.service';
import type { FieldProblem } from './sdk-answer';
import { ServedEnvironment } from './served-environment';

/** Who to explain for: an identity (named, or derived from traits as identify derives one), or the environment (neither). */
export type ExplainSubject = { readonly identity: IdentifyRequest } | { readonly identity: null };

/** One flag explained: the engine's explanation, with what SDK answers and keys make of it. */
export interface ExplainedFlag extends FlagExplanation {
  readonly featureId: number;
  /** The multivariate option served (its id), when a bucket applied; null otherwise. */
  readonly multivariateOptionId: number | null;
  /** The reason OFREP reports (`STATIC`, `DEFAULT`, `TARGETING_MATCH`, `SPLIT`, `DISABLED`, `ERROR`). */
  readonly ofrepReason: OfrepReason;
  /** Whether an SDK answer with a key of each kind lists the flag (server-key-only features, hidden disabled flags). */
  readonly listedFor: { readonly clientKey: boolean; readonly serverKey: boolean };
}

export interface ExplainedAnswer {
  /** The identity evaluated; null for the environment's flags. */
  readonly identifier: string | null;
  /** Whether the identity was stored at that point (its stored traits and overrides were used). */
  readonly identityStored: boolean;
  /** The traits evaluated: stored traits overlaid with the request's, as identify overlays them. */
  readonly traits: ReadonlyArray<{ readonly trait_key: string; readonly trait_value: TraitValue }>;
  readonly flags: readonly ExplainedFlag[];
}

function setOwn(target: Record<string, TraitValue>, key: string, value: TraitValue): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Explained evaluation for the admin API: what the SDK API answers (or answered) for an identity or
 * for the environment, evaluated from an environment document and a stored identity document by the
 * serving code itself (`ServedEnvironment`, the engine's `evaluate` with a tracer). Nothing is stored.
 */
export class EvaluationExplainer {
  /**
   * Reads who to explain for, with identify's rules and field names (`identifier`,
   * `traits[1].trait_value`): the same body an SDK would send to `POST /api/v1/identities/`.
   */
  subject(body: { readonly identifier?: unknown; readonly traits?: unknown }): ExplainSubject | { readonly errors: FieldProblem[] } {
    const named = body.identifier !== undefined && body.identifier !== null;
    const hasTraits = Array.isArray(body.traits) && body.traits.length > 0;
    const parsed = parseIdentifyBody({ identifier: body.identifier, traits: body.traits });
    if ('errors' in parsed) return parsed;
    return named || hasTraits ? { identity: parsed.request } : { identity: null };
  }

  /** Feature names the environment document does not have. */
  unknownFeatures(environment: EnvironmentDocument, names: readonly string[]): string[] {
    const known = new Set(environment.features.map(({ feature }) => feature.name));
    return names.filter((name) => !known.has(name));
  }

  /**
   * The explanation of every flag (or of `features`, in the environment's order). `stored` is the
   * identity's document at the same point (null when it was not stored then): identify evaluates its
   * stored traits overlaid with the request's (a null trait value removes one) and its overrides.
   */
  explain(environment: EnvironmentDocument, stored: IdentityDocument | null, subject: ExplainSubject, features?: readonly string[]): ExplainedAnswer {
    const served = new ServedEnvironment(environment);
    const request = subject.identity;
    const known = request === null || request.anonymous ? null : stored;
    const traits: Record<string, TraitValue> = {};
    if (request !== null) {
      if (known !== null) for (const [key, value] of Object.entries(storedTraits(known))) setOwn(traits, key, value);
      for (const trait of request.traits) {
        if (trait.value === null) delete traits[trait.key];
        else setOwn(traits, trait.key, trait.value);
      }
    }
    const { outcomes, flags } = served.explain(request === null ? null : { identifier: request.identifier, traits }, known);
    const wanted = features === undefined ? null : new Set(features);
    const explained = flags.flatMap((flag, index): ExplainedFlag[] => {
      const outcome = outcomes[index];
      const feature = served.features[outcome?.feature.index ?? -1];
      if (outcome === undefined || feature === undefined || (wanted !== null && !wanted.has(flag.feature))) return [];
      return [
        {
          ...flag,
          featureId: feature.id,
          // Variants are the state's options with their id as priority (see toFeatureContext).
          multivariateOptionId: flag.why.bucket?.buckets.find((bucket) => bucket.chosen)?.priority ?? null,
          ofrepReason: ofrepReason(outcome),
          listedFor: { clientKey: served.visible([outcome], 'client').length === 1, serverKey: served.visible([outcome], 'server').length === 1 },
        },
      ];
    });
    return {
      identifier: request === null ? null : request.identifier,
      identityStored: known !== null,
      traits: Object.keys(traits)
        .sort()
        .map((key) => ({ trait_key: key, trait_value: traits[key] as TraitValue })),
      flags: explained,
    };
  }
}
