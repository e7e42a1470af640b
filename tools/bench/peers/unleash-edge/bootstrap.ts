/**
 * Unleash Edge's offline bootstrap (Unleash's client features format, `{ version: 2, features }`)
 * derived from a Flagsmith environment document, so Edge evaluates the same rules as ours for the
 * same contexts. Only the deterministic parts carry over exactly:
 * - a segment's rules become strategies (Unleash ANDs a strategy's constraints and ORs its
 *   strategies, so ALL/ANY/NONE rules are expanded into a disjunction of conjunctions, NONE as
 *   inverted constraints);
 * - each segment override is a strategy listed before the feature's default one, carrying the
 *   override's value as a strategy variant (Unleash takes the variant of the first matching
 *   strategy that has variants); a feature disabled by default gets no default strategy;
 * - a regular expression Unleash cannot express becomes STR_ENDS_WITH of its literal suffix
 *   (`^[a-z0-9.]+@example\.com$` as "@example.com"), which agrees on the benchmark's identities.
 * Percentage splits and multivariate weights are hashed differently by Unleash, so the features
 * they decide get an equivalent flexibleRollout of the same size (Edge does comparable work) and
 * are left out of the agreement check: `deterministicFeatures` lists the ones checked.
 */

export interface DocumentCondition {
  readonly operator: string;
  readonly property_?: string | null;
  readonly value?: string | null;
}

export interface DocumentRule {
  readonly type: 'ALL' | 'ANY' | 'NONE';
  readonly conditions?: readonly DocumentCondition[];
  readonly rules?: readonly DocumentRule[];
}

export interface DocumentFeatureState {
  readonly feature: { readonly id: number; readonly name: string; readonly type?: string };
  readonly enabled: boolean;
  readonly feature_state_value: unknown;
  readonly multivariate_feature_state_values?: readonly { readonly percentage_allocation: number; readonly multivariate_feature_option: { readonly value: unknown } }[];
  readonly feature_segment?: { readonly priority?: number | null } | null;
}

export interface EnvironmentDocument {
  readonly feature_states: readonly DocumentFeatureState[];
  readonly project: { readonly segments: readonly { readonly id: number; readonly name: string; readonly rules: readonly DocumentRule[]; readonly feature_states?: readonly DocumentFeatureState[] }[] };
}

export interface UnleashConstraint {
  readonly contextName: string;
  readonly operator: string;
  readonly values?: string[];
  readonly value?: string;
  readonly inverted: boolean;
  readonly caseInsensitive: boolean;
}

interface UnleashVariant {
  readonly name: string;
  readonly weight: number;
  readonly weightType: 'variable' | 'fix';
  readonly stickiness: string;
  readonly payload?: { readonly type: 'string'; readonly value: string };
}

export interface UnleashStrategy {
  readonly name: 'default' | 'flexibleRollout';
  readonly constraints: UnleashConstraint[];
  readonly parameters: Record<string, string>;
  readonly variants: UnleashVariant[];
}

export interface UnleashFeature {
  readonly name: string;
  readonly type: 'release';
  readonly enabled: boolean;
  readonly project: 'default';
  readonly stale: false;
  readonly impressionData: false;
  readonly strategies: UnleashStrategy[];
  readonly variants: UnleashVariant[];
}

export interface Bootstrap {
  readonly version: 2;
  readonly features: UnleashFeature[];
  /** Features whose answer Edge must give exactly as ours does (enabled, and value as a string). */
  readonly deterministicFeatures: string[];
}

/** A conjunction of constraints, or `undefined` when a condition is not deterministic (a percentage split). */
type Conjunction = UnleashConstraint[];

const constraint = (contextName: string, operator: string, values: string | string[], inverted = false): UnleashConstraint =>
  Array.isArray(values) ? { contextName, operator, values, inverted, caseInsensitive: false } : { contextName, operator, value: values, inverted, caseInsensitive: false };

const negate = (c: UnleashConstraint): UnleashConstraint => ({ ...c, inverted: !c.inverted });

/** A regular expression's literal suffix before `$`, if the pattern is `^<class>+<literal>$`. */
export function literalSuffix(pattern: string): string | undefined {
  const match = /^\^\[[^\]]+\][+*](.+)\$$/.exec(pattern);
  if (!match) return undefined;
  let literal = '';
  const escaped = match[1] as string;
  for (let index = 0; index < escaped.length; index++) {
    const char = escaped[index] as string;
    if (char === '\\') literal += escaped[++index] ?? '';
    else if ('[]().*+?^$|{}'.includes(char)) return undefined;
    else literal += char;
  }
  return literal;
}

/** One Flagsmith condition as alternatives (OR) of constraints; `null` when it is a percentage split. */
export function translateCondition(condition: DocumentCondition): UnleashConstraint[][] | null {
  const property = condition.property_ ?? '';
  const value = condition.value ?? '';
  const semver = value.endsWith(':semver');
  const bare = semver ? value.slice(0, -':semver'.length) : value;
  const numeric = (operator: string) => [[constraint(property, semver ? `SEMVER_${operator}` : `NUM_${operator}`, bare)]];
  switch (condition.operator) {
    case 'PERCENTAGE_SPLIT':
      return null;
    case 'EQUAL':
      return semver ? [[constraint(property, 'SEMVER_EQ', bare)]] : [[constraint(property, 'IN', [value])]];
    case 'NOT_EQUAL':
      return [[constraint(property, 'IN', [value], true)]];
    case 'IN':
      return [[constraint(property, 'IN', value.split(','))]];
    case 'GREATER_THAN':
      return numeric('GT');
    case 'LESS_THAN':
      return numeric('LT');
    // Unleash's semver operators have no inclusive form: >= is > or =.
    case 'GREATER_THAN_INCLUSIVE':
      return semver ? [[constraint(property, 'SEMVER_GT', bare)], [constraint(property, 'SEMVER_EQ', bare)]] : numeric('GTE');
    case 'LESS_THAN_INCLUSIVE':
      return semver ? [[constraint(property, 'SEMVER_LT', bare)], [constraint(property, 'SEMVER_EQ', bare)]] : numeric('LTE');
    case 'CONTAINS':
      return [[constraint(property, 'STR_CONTAINS', [value])]];
    case 'NOT_CONTAINS':
      return [[constraint(property, 'STR_CONTAINS', [value], true)]];
    case 'REGEX': {
      const suffix = literalSuffix(value);
      if (suffix === undefined) throw new Error(`regular expression ${value} has no Unleash equivalent`);
      return [[constraint(property, 'STR_ENDS_WITH', [suffix])]];
    }
    default:
      throw new Error(`operator ${condition.operator} has no Unleash equivalent here`);
  }
}

const and = (left: Conjunction[], right: Conjunction[]): Conjunction[] => left.flatMap((l) => right.map((r) => [...l, ...r]));

/** A rule as a disjunction of conjunctions; `null` when a percentage split decides it. */
export function translateRule(rule: DocumentRule): Conjunction[] | null {
  const parts: (Conjunction[] | null)[] = [...(rule.conditions ?? []).map(translateCondition), ...(rule.rules ?? []).map(translateRule)];
  if (parts.some((part) => part === null)) return null;
  const alternatives = parts as Conjunction[][];
  if (rule.type === 'ANY') return alternatives.flat();
  if (rule.type === 'ALL') return alternatives.reduce<Conjunction[]>(and, [[]]);
  // NONE: no part holds, so every alternative of every part is false: each conjunction negated is
  // a disjunction of negated constraints, and those are ANDed together.
  const negated = alternatives.flat().map((conjunction) => conjunction.map((c) => [negate(c)]));
  return negated.reduce<Conjunction[]>(and, [[]]);
}

/** A Flagsmith value (string, number, boolean) as the string Unleash's payload carries. */
const text = (value: unknown): string => (typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value));

const valueVariant = (value: unknown): UnleashVariant[] =>
  value === null || value === undefined ? [] : [{ name: 'value', weight: 1000, weightType: 'variable', stickiness: 'default', payload: { type: 'string', value: text(value) } }];

/** The bootstrap for a Flagsmith environment document. */
export function unleashBootstrap(document: EnvironmentDocument): Bootstrap {
  const deterministic: string[] = [];
  const features = document.feature_states.map((state): UnleashFeature => {
    const name = state.feature.name;
    const overrides = document.project.segments
      .flatMap((segment) => (segment.feature_states ?? []).filter((override) => override.feature.id === state.feature.id).map((override) => ({ segment, override })))
      .sort((x, y) => (x.override.feature_segment?.priority ?? 0) - (y.override.feature_segment?.priority ?? 0));
    let exact = (state.multivariate_feature_state_values ?? []).length === 0;
    const strategies: UnleashStrategy[] = [];
    for (const { segment, override } of overrides) {
      const conjunctions = segment.rules.reduce<Conjunction[] | null>((sum, rule) => {
        const translated = translateRule(rule);
        return sum === null || translated === null ? null : and(sum, translated);
      }, [[]]);
      if (conjunctions === null) {
        exact = false;
        // A split of the same size, hashed Unleash's way.
        const split = segment.rules.flatMap((rule) => rule.conditions ?? []).find((condition) => condition.operator === 'PERCENTAGE_SPLIT');
        if (override.enabled)
          strategies.push({ name: 'flexibleRollout', constraints: [], parameters: { rollout: String(Math.round(Number(split?.value ?? 0))), stickiness: 'default', groupId: name }, variants: valueVariant(override.feature_state_value) });
        continue;
      }
      // A disabled override hides the feature for the segment: Unleash has no "matched, off", so it is not modelled.
      if (!override.enabled) {
        exact = false;
        continue;
      }
      for (const constraints of conjunctions) strategies.push({ name: 'default', constraints, parameters: {}, variants: valueVariant(override.feature_state_value) });
    }
    const multivariate = state.multivariate_feature_state_values ?? [];
    const defaultVariants: UnleashVariant[] =
      multivariate.length > 0
        ? multivariate.map((option, index) => ({ name: `option-${index}`, weight: Math.round(option.percentage_allocation * 10), weightType: 'variable', stickiness: 'default', payload: { type: 'string', value: text(option.multivariate_feature_option.value) } }))
        : valueVariant(state.feature_state_value);
    if (state.enabled) strategies.push({ name: 'default', constraints: [], parameters: {}, variants: defaultVariants });
    if (exact) deterministic.push(name);
    return { name, type: 'release', enabled: strategies.length > 0, project: 'default', stale: false, impressionData: false, strategies, variants: [] };
  });
  return { version: 2, features, deterministicFeatures: deterministic };
}

/** An identity's context for Unleash's frontend API: userId and the traits as string properties. */
export const edgeContext = (identifier: string, traits: Readonly<Record<string, string | number>>): string =>
  JSON.stringify({ userId: identifier, properties: Object.fromEntries(Object.entries(traits).map(([key, value]) => [key, String(value)])) });

export interface EdgeToggle {
  readonly name: string;
  readonly enabled: boolean;
  readonly variant?: { readonly name: string; readonly enabled: boolean; readonly payload?: { readonly value: string } };
}

export interface OurFlag {
  readonly name: string;
  readonly enabled: boolean;
  readonly value: unknown;
}

/**
 * Where Edge's frontend answer (enabled toggles only) differs from ours on the deterministic
 * features: a list of "feature: ours … Edge …" lines, empty when they agree.
 */
export function disagreements(deterministic: readonly string[], ours: readonly OurFlag[], edge: readonly EdgeToggle[]): string[] {
  const edgeByName = new Map(edge.map((toggle) => [toggle.name, toggle]));
  const oursByName = new Map(ours.map((flag) => [flag.name, flag]));
  const found: string[] = [];
  for (const name of deterministic) {
    const flag = oursByName.get(name);
    const toggle = edgeByName.get(name);
    const oursText = flag?.enabled ? `on ${flag.value === null || flag.value === undefined ? '(no value)' : text(flag.value)}` : 'off';
    const edgeText = toggle?.enabled ? `on ${toggle.variant?.enabled && toggle.variant.payload ? toggle.variant.payload.value : '(no value)'}` : 'off';
    if (oursText !== edgeText) found.push(`${name}: ours ${oursText}, Edge ${edgeText}`);
  }
  return found;
}
