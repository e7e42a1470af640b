import type { EnvironmentDocument, FeatureDocument } from '@flagline/contracts';
import type { FlagOutcome } from '@flagline/evaluation-engine';
import { joinedBytes } from './answer-bytes';
import { KeptByList, keptIds, listKey, type KeptForList, type ListBudget } from './kept-by-list';

/** Feature JSON by feature document, in the plain and the sensitive-data-hiding form. */
const featureJsonCache = new WeakMap<FeatureDocument, { plain?: string; sensitive?: string }>();

/** The `feature` member of a flag, rendered once per feature document (documents are never mutated). */
function featureJson(feature: FeatureDocument, sensitive: boolean): string {
  let cached = featureJsonCache.get(feature);
  if (cached === undefined) featureJsonCache.set(feature, (cached = {}));
  const form = sensitive ? 'sensitive' : 'plain';
  return (cached[form] ??= JSON.stringify({
    id: feature.id,
    name: feature.name,
    created_date: sensitive ? null : feature.createdAt,
    description: sensitive ? null : feature.description,
    initial_value: sensitive ? null : feature.initialValue,
    default_enabled: sensitive ? null : feature.defaultEnabled,
    type: feature.type,
  }));
}

/** A flag outcome's JSON as UTF-8 bytes, and a number told apart from every other such rendering. */
interface RenderedFlag {
  readonly bytes: Buffer;
  readonly id: number;
}

/** The renderings of one environment's flags, shared by its revisions' renderers while they stay valid. */
interface Renderings {
  readonly bytes: WeakMap<FlagOutcome, RenderedFlag>;
  nextId: number;
}

/** The flags of one list of outcomes, joined with commas, kept for the list. */
interface FlagsBlock extends KeptForList {
  readonly bytes: Buffer;
}

/**
 * Bytes of joined flag lists kept per environment revision. An identify answer's flags depend only
 * on the list of outcomes (an identity's key appears nowhere in a flag), so many identities share
 * one list: the benchmark environment's 1,000 identities make about 440 lists of 20 flags, about
 * 6.3 KB each, 3.0 MB as counted, which stay kept; an environment of thousands of flags keeps a few.
 */
export const FLAGS_BLOCK_BYTES = 4 * 1024 * 1024;

/** Bytes a kept block holds: its bytes, 8 per id, and about 200 for its objects. */
const blockSize = ({ bytes, ids }: FlagsBlock): number => bytes.length + ids.byteLength + 200;

/** Memory of its own for bytes kept for reuse (not a slice pinning a shared pool slab). */
const ownAllocation = (length: number): Buffer => Buffer.allocUnsafeSlow(length);

/** What a reused slot holds between lists. */
const NO_BYTES = Buffer.alloc(0);

/**
 * Renders flags in Flagsmith's SDK shape (`SDKFeatureStateSerializer` plus `reason` and
 * `variant`). Each outcome is rendered once and reused: outcomes are stable objects for the life
 * of a compiled environment, so the hot path only joins ready-made JSON fragments.
 */
export class FlagRenderer {
  private readonly fragments: WeakMap<FlagOutcome, string>;
  /** The same fragments as UTF-8, for answers assembled as bytes. */
  private readonly renderings: Renderings;
  /** Joined flags per list of outcomes, for this revision. */
  private readonly blocks: KeptByList<FlagsBlock>;
  /** The list being looked up: reused, as assembly is synchronous. */
  private readonly pendingIds: number[] = [];
  private readonly pendingBytes: Buffer[] = [];
  /** Per feature index, its JSON once a flag of it was rendered. */
  private readonly featureJson: (string | undefined)[] = [];

  /**
   * @param previous - the renderer of an earlier revision of the environment. Its fragments stay
   *   valid for outcomes the new compile reused (same feature state and feature documents at the
   *   same position), so they are shared, unless the environment's id or its hiding of sensitive
   *   data changed.
   */
  constructor(
    private readonly environment: EnvironmentDocument,
    private readonly features: readonly FeatureDocument[],
    previous?: FlagRenderer,
    budget: ListBudget = { bytes: FLAGS_BLOCK_BYTES, perList: FLAGS_BLOCK_BYTES / 4 },
  ) {
    const sensitive = environment.settings.hideSensitiveData;
    const reusable =
      previous !== undefined &&
      previous.environment.environmentId === environment.environmentId &&
      previous.environment.settings.hideSensitiveData === sensitive;
    this.fragments = reusable ? previous.fragments : new WeakMap();
    this.renderings = reusable ? previous.renderings : { bytes: new WeakMap(), nextId: 1 };
    this.blocks = new KeptByList(budget, blockSize);
  }

  /** Bytes the kept flag lists take, as counted against the budget. */
  get blockBytesKept(): number {
    return this.blocks.bytesKept;
  }

  /** The JSON of one flag. */
  flag(outcome: FlagOutcome): string {
    let fragment = this.fragments.get(outcome);
    if (fragment === undefined) {
      fragment = this.render(outcome);
      this.fragments.set(outcome, fragment);
    }
    return fragment;
  }

  /**
   * The JSON of one flag as UTF-8 bytes: an answer of many flags is copied together from these,
   * rather than joined as text and encoded again on every request.
   */
  flagBytes(outcome: FlagOutcome): Buffer {
    return this.rendered(outcome).bytes;
  }

  private rendered(outcome: FlagOutcome): RenderedFlag {
    const renderings = this.renderings;
    let rendered = renderings.bytes.get(outcome);
    if (rendered === undefined) {
      const text = this.flag(outcome);
      // Kept as long as the outcome: its own allocation, not a slice pinning a shared pool slab.
      const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(text));
      bytes.write(text);
      rendered = { bytes, id: renderings.nextId++ };
      renderings.bytes.set(outcome, rendered);
    }
    return rendered;
  }

  /**
   * The flags of `outcomes` as UTF-8 bytes, separated by commas (what an answer's `"flags":[…]`
   * holds): joined the first time this list is served and kept for it (see {@link FLAGS_BLOCK_BYTES}),
   * so an answer copies one block rather than every flag. The block is not written to; callers copy it.
   */
  flagsBlock(outcomes: readonly FlagOutcome[]): Buffer {
    const ids = this.pendingIds;
    const parts = this.pendingBytes;
    const count = outcomes.length;
    // The arrays keep their length (written by index): cutting and growing them again reallocates their storage.
    while (parts.length < count) {
      parts.push(NO_BYTES);
      ids.push(0);
    }
    for (let index = 0; index < count; index++) {
      const rendered = this.rendered(outcomes[index] as FlagOutcome);
      ids[index] = rendered.id;
      parts[index] = rendered.bytes;
    }
    const key = listKey(ids, count);
    let block = this.blocks.get(key, ids, count);
    if (block === undefined) {
      block = { ids: keptIds(ids, count), bytes: joinedBytes('', parts, '', ownAllocation, count) };
      this.blocks.keep(key, block);
    }
    // Nothing of this list is kept alive by the array.
    parts.fill(NO_BYTES, 0, count);
    return block.bytes;
  }

  private featureJsonAt(index: number): string {
    const feature = this.features[index];
    if (feature === undefined) return 'null';
    return (this.featureJson[index] ??= featureJson(feature, this.environment.settings.hideSensitiveData));
  }

  private render(outcome: FlagOutcome): string {
    const sensitive = this.environment.settings.hideSensitiveData;
    const stateId = /^\d+$/.test(outcome.source.keyText) ? Number(outcome.source.keyText) : null;
    return (
      `{"id":${sensitive ? 'null' : JSON.stringify(stateId)}` +
      `,"feature":${this.featureJsonAt(outcome.feature.index)}` +
      `,"feature_state_value":${JSON.stringify(outcome.value ?? null)}` +
      `,"environment":${sensitive ? 'null' : this.environment.environmentId}` +
      `,"identity":null,"feature_segment":null` +
      `,"enabled":${outcome.enabled ? 'true' : 'false'}` +
      `,"reason":${JSON.stringify(outcome.reason)}` +
      `,"variant":${JSON.stringify(outcome.variantKey)}}`
    );
  }
}
