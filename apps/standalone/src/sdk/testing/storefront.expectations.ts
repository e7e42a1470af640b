import { identityKey, inPercentageSplit, multivariateBucket } from './flagsmith-hashing';
import { STOREFRONT, type FeatureKey, type Storefront } from './storefront.fixture';

export type FlagValue = string | number | boolean | null;

/** What a flag must evaluate to, by Flagsmith's rules applied to what the admin API set up. */
export interface ExpectedFlag {
  readonly name: string;
  readonly enabled: boolean;
  readonly value: FlagValue;
  /** Flagsmith's reason (`DEFAULT`, `TARGETING_MATCH; segment=<name>`, `SPLIT; weight=<w>`). */
  readonly reason: string;
  /** The multivariate variant key, `control` when no variant was drawn; null when not bucketed. */
  readonly variant: string | null;
}

export type ColourBucket = 'red' | 'blue' | 'control';

const { features: f, segments: s } = STOREFRONT;

/** The multivariate bucket an identity must land in. */
export function expectedColourBucket(w: Storefront, identifier: string): ColourBucket {
  const allocations = f.colour.variants.map((variant) => ({ optionId: w.colourOptionIds[variant.key] ?? Number.NaN, percentage: variant.percentage, bucket: variant.key }));
  return multivariateBucket<ColourBucket>(w.colourStateId, identityKey(w.clientKey, identifier), allocations, 'control');
}

/** Whether an identity must fall in the 25 % `early_adopters` split. */
export function expectedEarlyAdopter(w: Storefront, identifier: string): boolean {
  return inPercentageSplit(w.segmentIds.earlyAdopters, identityKey(w.clientKey, identifier), s.earlyAdopters.percentage);
}

/**
 * Every flag a key of the given kind must see, for an identity with the given traits (or for the
 * environment when `identifier` is null): identity override, then segment override, then the
 * environment default; multivariate bucketing on whichever wins.
 */
export function expectedFlags(w: Storefront, identifier: string | null, traits: Readonly<Record<string, unknown>>, keyKind: 'client' | 'server'): Record<string, ExpectedFlag> {
  const pro = identifier !== null && traits[s.pro.trait] === s.pro.equals;
  const vip = identifier === STOREFRONT.vip.identifier;
  const proReason = `TARGETING_MATCH; segment=${s.pro.name}`;
  const flags: ExpectedFlag[] = [];
  const flag = (name: string, enabled: boolean, value: FlagValue, reason = 'DEFAULT', variant: string | null = null): void => {
    flags.push({ name, enabled, value, reason, variant });
  };

  flag(f.welcome.name, f.welcome.enabled, f.welcome.value);
  if (vip) flag(f.checkout.name, true, f.checkout.vipValue, 'TARGETING_MATCH; segment=identity_overrides');
  else if (pro) flag(f.checkout.name, true, f.checkout.segmentValue, proReason);
  else flag(f.checkout.name, f.checkout.enabled, f.checkout.value);
  if (identifier !== null && expectedEarlyAdopter(w, identifier)) flag(f.dashboard.name, true, null, `TARGETING_MATCH; segment=${s.earlyAdopters.name}`);
  else flag(f.dashboard.name, f.dashboard.enabled, null);
  if (identifier === null) flag(f.colour.name, f.colour.enabled, f.colour.control);
  else {
    const bucket = expectedColourBucket(w, identifier);
    const variant = f.colour.variants.find((candidate) => candidate.key === bucket);
    if (variant) flag(f.colour.name, f.colour.enabled, variant.value, `SPLIT; weight=${variant.percentage}`, variant.key);
    else flag(f.colour.name, f.colour.enabled, f.colour.control, 'DEFAULT', 'control');
  }
  if (pro) flag(f.maxItems.name, true, f.maxItems.segmentValue, proReason);
  else flag(f.maxItems.name, f.maxItems.enabled, f.maxItems.value);
  flag(f.legacyExport.name, f.legacyExport.enabled, f.legacyExport.value);
  if (keyKind === 'server') flag(f.internal.name, f.internal.enabled, f.internal.value);
  return Object.fromEntries(flags.map((expected) => [expected.name, expected]));
}

/** Feature names by fixture key. */
export const featureName = (key: FeatureKey): string => f[key].name;
