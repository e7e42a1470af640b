import type { FlagOutcome } from '@flagline/evaluation-engine';
import { hash } from 'node:crypto';
import { joinedBytes } from './answer-bytes';
import { KeptByList, keptIds, listKey, type ListBudget } from './kept-by-list';
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

/** A flag's rendered OFREP entry and a number told apart from every other entry of its renderer. */
interface Entry {
  readonly bytes: Buffer;
  readonly id: number;
}

/** A bulk answer made for one list of entries, reused for every request whose flags come out the same. */
export interface BulkAnswer {
  /** The ids of its entries, in order: what a list is compared by (the entries' bytes are not kept alive by it). */
  readonly ids: Float64Array;
  readonly etag: string;
  readonly answer: SdkAnswer;
}

/** Bytes a kept answer holds: its body, 8 per entry id, and about 512 for the answer, ETag and header objects. */
function keptSize({ answer, ids }: BulkAnswer): number {
  return (answer.body === null ? 0 : Buffer.byteLength(answer.body)) + ids.byteLength + 512;
}

/** Memory of its own for an answer kept for reuse. */
const ownAllocation = (length: number): Buffer => Buffer.allocUnsafeSlow(length);

/**
 * OFREP's JSON of each flag outcome of one environment revision, as UTF-8 bytes, rendered the
 * first time the outcome is served and reused after: an outcome (value, variant, reason, the
 * feature's id) is fixed for the life of a compiled environment. A bulk answer depends only on
 * the list of outcomes, and contexts that differ mostly come out with the same list (an identity's
 * own key appears nowhere in it), so whole answers are kept by that list: body, ETag and headers
 * made once, and a request whose list was answered before allocates nothing for its answer.
 *
 * What is kept is bounded: the answers by bytes (see `SHARED_LIST_BUDGET`, least recently
 * used out first); the entries and single-flag answers by the outcomes they render, which they
 * are keyed by weakly. An environment revision has a fixed, finite set of outcomes (per compiled
 * feature state its own, its control and one per variant, and at most one dependency-cycle copy of
 * each), whatever the contexts; the outcomes of an identity's own overrides live only as long as
 * that identity's compiled overrides, and their bytes go with them.
 */
export class OfrepFlagRenderer {
  private readonly entries = new WeakMap<FlagOutcome, Entry>();
  private readonly keyMissing = new WeakMap<FlagOutcome, Entry>();
  private readonly answers = new WeakMap<FlagOutcome, SdkAnswer>();
  private nextId = 1;
  /**
   * By the list of the entries' ids (see `KeptByList`), in the process-wide budget
   * (`SHARED_LIST_BUDGET`). Answers are kept per list of flag outcomes, not per context: the
   * benchmark environment's 433 lists at 1,000 identities (694 at 5,000), 2.7 KB bodies of 20
   * flags, count about 1.5 MB (2.3 MB).
   */
  private readonly bulkAnswers: KeptByList<BulkAnswer>;
  /** One list reused by every lookup: assembly is synchronous, so no two answers share it at once. */
  private readonly pending: Entry[] = [];
  private readonly pendingIds: number[] = [];

  constructor(
    private readonly environment: ServedEnvironment,
    budget?: ListBudget,
  ) {
    this.bulkAnswers = new KeptByList(keptSize, budget);
  }

  /** Bytes the kept bulk answers take, as counted against the budget. */
  get bulkBytesKept(): number {
    return this.bulkAnswers.bytesKept;
  }

  private rendered(value: unknown): Entry {
    return { bytes: ownBytes(value), id: this.nextId++ };
  }

  private entryOf(outcome: FlagOutcome): Entry {
    let entry = this.entries.get(outcome);
    if (entry === undefined) {
      entry = this.rendered(toOfrep(outcome, this.environment.features[outcome.feature.index]?.id ?? 0));
      this.entries.set(outcome, entry);
    }
    return entry;
  }

  private keyMissingOf(outcome: FlagOutcome): Entry {
    let entry = this.keyMissing.get(outcome);
    if (entry === undefined) {
      entry = this.rendered(targetingKeyMissing(outcome.feature.name));
      this.keyMissing.set(outcome, entry);
    }
    return entry;
  }

  /** The flag as OFREP evaluates it: `{"key":…,"value":…,"reason":…,"variant":…,"metadata":{…}}`. */
  entry(outcome: FlagOutcome): Buffer {
    return this.entryOf(outcome).bytes;
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
    return this.keyMissingOf(outcome).bytes;
  }

  /**
   * `{"flags":[…]}` for these outcomes (a flag split by identity as TARGETING_KEY_MISSING when
   * there is no targeting key), with its `ETag`, the SHA-1 of the body: the answer made for the
   * same list of outcomes before, or made now and kept.
   */
  bulk(outcomes: readonly FlagOutcome[], anonymous: boolean): BulkAnswer {
    const entries = this.pending;
    const ids = this.pendingIds;
    const count = outcomes.length;
    entries.length = count;
    ids.length = count;
    for (let index = 0; index < count; index++) {
      const outcome = outcomes[index] as FlagOutcome;
      const entry = anonymous && this.environment.dependsOnIdentity(outcome.feature.index) ? this.keyMissingOf(outcome) : this.entryOf(outcome);
      entries[index] = entry;
      ids[index] = entry.id;
    }
    const key = listKey(ids, count);
    const known = this.bulkAnswers.get(key, ids, count);
    if (known !== undefined) {
      entries.length = 0;
      return known;
    }
    const made = bulkAnswerOf(entries, keptIds(ids, count));
    entries.length = 0;
    // Not kept when larger than the budget's share for one answer.
    this.bulkAnswers.keep(key, made);
    return made;
  }
}

function bulkAnswerOf(entries: readonly Entry[], ids: Float64Array): BulkAnswer {
  const parts = new Array<Buffer>(entries.length);
  for (let index = 0; index < entries.length; index++) parts[index] = (entries[index] as Entry).bytes;
  const body = joinedBytes('{"flags":[', parts, ']}', ownAllocation);
  const etag = `"${hash('sha1', body, 'base64url')}"`;
  return { ids, etag, answer: { status: 200, body, headers: { ...SDK_CORS_HEADERS, 'content-type': 'application/json', 'content-length': body.length, etag }, complete: true } };
}
