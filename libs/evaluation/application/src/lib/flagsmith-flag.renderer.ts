import type { EnvironmentDocument, FeatureDocument } from '@flagline/contracts';
import type { FlagOutcome } from '@flagline/evaluation-engine';

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

/**
 * Renders flags in Flagsmith's SDK shape (`SDKFeatureStateSerializer` plus `reason` and
 * `variant`). Each outcome is rendered once and reused: outcomes are stable objects for the life
 * of a compiled environment, so the hot path only joins ready-made JSON fragments.
 */
export class FlagRenderer {
  private readonly fragments: WeakMap<FlagOutcome, string>;
  /** The same fragments as UTF-8, for answers assembled as bytes. */
  private readonly fragmentBytes: WeakMap<FlagOutcome, Buffer>;
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
  ) {
    const sensitive = environment.settings.hideSensitiveData;
    const reusable =
      previous !== undefined &&
      previous.environment.environmentId === environment.environmentId &&
      previous.environment.settings.hideSensitiveData === sensitive;
    this.fragments = reusable ? previous.fragments : new WeakMap();
    this.fragmentBytes = reusable ? previous.fragmentBytes : new WeakMap();
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
    let bytes = this.fragmentBytes.get(outcome);
    if (bytes === undefined) {
      const text = this.flag(outcome);
      // Kept as long as the outcome: its own allocation, not a slice pinning a shared pool slab.
      bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(text));
      bytes.write(text);
      this.fragmentBytes.set(outcome, bytes);
    }
    return bytes;
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
