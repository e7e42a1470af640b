import type { EnvironmentDocument, FeatureDocument } from '@flagline/contracts';
import type { FlagOutcome } from '@flagline/evaluation-engine';

/**
 * Renders flags in Flagsmith's SDK shape (`SDKFeatureStateSerializer` plus `reason` and
 * `variant`). Each outcome is rendered once and reused: outcomes are stable objects for the life
 * of a compiled environment, so the hot path only joins ready-made JSON fragments.
 */
export class FlagRenderer {
  private readonly fragments = new WeakMap<FlagOutcome, string>();
  private readonly featureJson: string[];

  constructor(
    private readonly environment: EnvironmentDocument,
    private readonly features: readonly FeatureDocument[],
  ) {
    const sensitive = environment.settings.hideSensitiveData;
    this.featureJson = features.map((feature) =>
      JSON.stringify({
        id: feature.id,
        name: feature.name,
        created_date: sensitive ? null : feature.createdAt,
        description: sensitive ? null : feature.description,
        initial_value: sensitive ? null : feature.initialValue,
        default_enabled: sensitive ? null : feature.defaultEnabled,
        type: feature.type,
      }),
    );
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

  private render(outcome: FlagOutcome): string {
    const sensitive = this.environment.settings.hideSensitiveData;
    const stateId = /^\d+$/.test(outcome.source.keyText) ? Number(outcome.source.keyText) : null;
    return (
      `{"id":${sensitive ? 'null' : JSON.stringify(stateId)}` +
      `,"feature":${this.featureJson[outcome.feature.index] ?? 'null'}` +
      `,"feature_state_value":${JSON.stringify(outcome.value ?? null)}` +
      `,"environment":${sensitive ? 'null' : this.environment.environmentId}` +
      `,"identity":null,"feature_segment":null` +
      `,"enabled":${outcome.enabled ? 'true' : 'false'}` +
      `,"reason":${JSON.stringify(outcome.reason)}` +
      `,"variant":${JSON.stringify(outcome.variantKey)}}`
    );
  }
}
