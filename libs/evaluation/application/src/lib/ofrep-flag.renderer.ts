import type { FlagOutcome } from '@flagline/evaluation-engine';
import { SDK_CORS_HEADERS, type SdkAnswer } from './sdk-answer';
import type { ServedEnvironment } from './served-environment';

/** OpenFeature's resolution reasons that Flagsmith's reasons map to. */
export type OfrepReason = 'STATIC' | 'DEFAULT' | 'TARGETING_MATCH' | 'SPLIT' | 'DISABLED' | 'ERROR';

/** An evaluated flag as OFREP answers it. */
export interface OfrepEvaluated {
  readonly key: string;
  readonly value: unknown;
  readonly reason: string;
  readonly variant?: string;
  readonly metadata: Record<string, string | number | boolean>;
}

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
export function toOfrep(outcome: FlagOutcome, featureId: number): OfrepEvaluated {
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

/** Without a targeting key, a flag split by identity cannot be evaluated: its entry says so. */
export function targetingKeyMissing(key: string): { key: string; errorCode: 'TARGETING_KEY_MISSING'; errorDetails: string } {
  return { key, errorCode: 'TARGETING_KEY_MISSING', errorDetails: 'This flag is split by identity: give context.targetingKey' };
}

/** UTF-8 bytes of a JSON value, in an allocation of their own (kept as long as the outcome they render). */
function ownBytes(value: unknown): Buffer {
  const text = JSON.stringify(value);
  const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(text));
  bytes.write(text);
  return bytes;
}

/**
 * OFREP's JSON of each flag outcome of one environment revision, as UTF-8 bytes, rendered the
 * first time the outcome is served and reused after: an outcome (value, variant, reason, the
 * feature's id) is fixed for the life of a compiled environment, so an answer of many flags is
 * copied together from ready-made bytes instead of built and serialized flag by flag.
 */
export class OfrepFlagRenderer {
  private readonly entries = new WeakMap<FlagOutcome, Buffer>();
  private readonly keyMissing = new WeakMap<FlagOutcome, Buffer>();
  private readonly answers = new WeakMap<FlagOutcome, SdkAnswer>();

  constructor(private readonly environment: ServedEnvironment) {}

  /** The flag as OFREP evaluates it: `{"key":…,"value":…,"reason":…,"variant":…,"metadata":{…}}`. */
  entry(outcome: FlagOutcome): Buffer {
    let bytes = this.entries.get(outcome);
    if (bytes === undefined) {
      bytes = ownBytes(toOfrep(outcome, this.environment.features[outcome.feature.index]?.id ?? 0));
      this.entries.set(outcome, bytes);
    }
    return bytes;
  }

  /**
   * The whole answer of a single-flag evaluation (`POST /ofrep/v1/evaluate/flags/{key}`) with this
   * outcome: its entry as the body, with complete headers, made once and sent as it is.
   */
  answer(outcome: FlagOutcome): SdkAnswer {
    let answer = this.answers.get(outcome);
    if (answer === undefined) {
      const body = this.entry(outcome);
      answer = { status: 200, body, headers: { ...SDK_CORS_HEADERS, 'content-type': 'application/json', 'content-length': body.length }, complete: true };
      this.answers.set(outcome, answer);
    }
    return answer;
  }

  /** The flag's TARGETING_KEY_MISSING entry (`{"key":…,"errorCode":…,"errorDetails":…}`). */
  targetingKeyMissing(outcome: FlagOutcome): Buffer {
    let bytes = this.keyMissing.get(outcome);
    if (bytes === undefined) {
      bytes = ownBytes(targetingKeyMissing(outcome.feature.name));
      this.keyMissing.set(outcome, bytes);
    }
    return bytes;
  }
}
