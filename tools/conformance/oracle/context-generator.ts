/**
 * Random evaluation contexts for the oracle: every operator, semver values, nested ALL/ANY/NONE
 * rules, JSONPath properties (valid, bracketed and invalid), flag dependencies (which form chains
 * and cycles among the few features of a context), multivariate features with and without variant
 * keys, weights at or under 100 (ints and floats such as `50.0`), tied override priorities,
 * identity-override segments as SDKs build them (priority -Infinity), contexts with and without an
 * identity, and traits of every JSON type.
 *
 * Condition values are mostly derived from the value the condition's property has in the context
 * (its trait, identifier, another flag's default), so that conditions hold often enough for the
 * segments, overrides and their precedence to be exercised.
 */
import {
  FloatNumber,
  type ConditionOperator,
  type EvaluationContext,
  type EvaluationOrder,
  type FeatureContext,
  type FeatureValue,
  type FeatureValueType,
  type IdentityContext,
  type RuleType,
  type SegmentCondition,
  type SegmentContext,
  type SegmentRule,
  type TraitValue,
} from '@flagline/evaluation-engine';
import type { Random } from './random';

/** A generated context and the written order of its `segments` and `features` maps. */
export interface OracleCase {
  readonly context: EvaluationContext;
  readonly order: EvaluationOrder;
  /**
   * The result to expect when Python's `re` rejects a pattern of the context (the reference
   * engine then raises); only for contexts whose one REGEX condition is all there is to match.
   */
  readonly ifPatternRejected?: unknown;
}

const ENVIRONMENTS = [
  { key: 'env_prod_Kx8', name: 'Production' },
  { key: 'n4Tq', name: 'staging' },
  { key: '42', name: 'Dev 1' },
];
const IDENTIFIERS = ['alice', 'bob', 'user_42', '42', '007', 'Ünïcode', 'a,b', 'Mixed Case'];
const TRAIT_NAMES = ['plan', 'age', 'score', 'version', 'beta', 'country', 'nickname', 'ratio', 'code', 'x y', 'über', '$.identity.identifier', '$.environment.name', '$.flags.alpha.enabled'];
const STRINGS = [
  'pro',
  'enterprise',
  'free',
  'PRO',
  '1.2.3',
  '2.0.0',
  '2.0.0-beta.1',
  '1.10.0',
  'v1.2.3',
  '1.2',
  '007',
  '1.5',
  '1e3',
  '-12',
  '0',
  '1.0',
  'true',
  'False',
  '',
  'Hello World',
  'ünïcode',
  'a,b',
  '[1, 2]',
  'NaN',
  '٣',
  'line\nbreak',
  '1.2.3-rc.10',
  '1.2.3-rc.9',
  '01.2.3',
  ' 7',
  '+7',
  '1_000',
  '-0',
  '0.0',
  '1.50',
  '１２',
  'inf',
  'K',
  'ſ',
  'ｚ',
  '😀',
  'ß',
];
const INTS = [0, 1, 2, 3, 7, 10, -1, -12, 42, 100, 1000];
const FLOATS: ReadonlyArray<number | FloatNumber> = [
  1.5,
  -0.25,
  0.1,
  2.5,
  99.99,
  1e-7,
  123456.789,
  new FloatNumber(5),
  new FloatNumber(0),
  new FloatNumber(-3),
  new FloatNumber(1e16),
  new FloatNumber(1e21),
];
const FEATURE_NAMES = ['alpha', 'beta_flag', 'dark-mode', '42', 'feature x', 'gamma', 'δelta'];
const SEGMENT_NAMES = ['power users', 'beta testers', 'Europe', 'flagged', 'percent', 'deps'];
/** Every condition operator. */
export const OPERATORS: readonly ConditionOperator[] = [
  'EQUAL',
  'NOT_EQUAL',
  'GREATER_THAN',
  'GREATER_THAN_INCLUSIVE',
  'LESS_THAN',
  'LESS_THAN_INCLUSIVE',
  'CONTAINS',
  'NOT_CONTAINS',
  'IN',
  'REGEX',
  'MODULO',
  'IS_SET',
  'IS_NOT_SET',
  'PERCENTAGE_SPLIT',
];
const RULE_TYPES: readonly RuleType[] = ['ALL', 'ANY', 'NONE'];
const SEMVERS = ['1.2.3', '1.2.4', '2.0.0', '2.0.0-beta.1', '2.0.0-alpha', '1.10.0', '0.9.9', '1.2.3+build.5'];
const VARIANT_WEIGHTS: ReadonlyArray<number | FloatNumber> = [0, 5, 10, 12.5, 20, 25, 33.3, 40];
const FULL_SPLITS: ReadonlyArray<ReadonlyArray<number | FloatNumber>> = [
  [100],
  [50, 50],
  [30, 70],
  [new FloatNumber(50), new FloatNumber(50)],
  [33.3, 33.3, 33.4],
  [25, 25, 50],
  [0, 100],
];
const INVALID_PATHS = ['$.identity.traits.[plan', '$.bad path', '$.', '$..', '$.identity.traits["plan"'];
/** Valid JSONPath queries beyond the documented ones: wildcards, descendants, filters, indexes. */
const EXOTIC_PATHS = ['$..plan', '$.identity.traits.*', '$.identity["key"]', '$.environment[*]', "$.identity.traits[?@ == 'pro']", '$.identity.traits[0]', '$..name'];

/** A context value as Python's engine sees it, after its string-to-number coercion. */
type PyValue = { kind: 'none' } | { kind: 'str'; value: string } | { kind: 'int'; value: bigint } | { kind: 'float'; value: number } | { kind: 'bool'; value: boolean };

function toPyValue(raw: unknown): PyValue {
  if (raw === null || raw === undefined) return { kind: 'none' };
  if (raw instanceof FloatNumber) return { kind: 'float', value: raw.valueOf() };
  if (typeof raw === 'boolean') return { kind: 'bool', value: raw };
  if (typeof raw === 'bigint') return { kind: 'int', value: raw };
  if (typeof raw === 'number') return Number.isInteger(raw) ? { kind: 'int', value: BigInt(raw) } : { kind: 'float', value: raw };
  if (typeof raw === 'string') {
    if (/^-?[0-9]+$/.test(raw)) return { kind: 'int', value: BigInt(raw) };
    if (/^-?[0-9]+\.[0-9]+$/.test(raw)) return { kind: 'float', value: Number(raw) };
    return { kind: 'str', value: raw };
  }
  // Objects and arrays read through JSONPath are no context value.
  return { kind: 'none' };
}

/** Python's `str()` of a context value, near enough to derive condition values from. */
function pyStr(value: PyValue): string {
  switch (value.kind) {
    case 'none':
      return 'None';
    case 'str':
      return value.value;
    case 'int':
      return value.value.toString();
    case 'bool':
      return value.value ? 'True' : 'False';
    case 'float':
      return Number.isInteger(value.value) && Math.abs(value.value) < 1e16 ? value.value.toFixed(1) : String(value.value);
  }
}

/**
 * The code points of `text`. Slices are cut between code points: a lone surrogate is a string
 * Python and JS do not even agree on the length of, and no API would send one.
 */
function codePoints(text: string): string[] {
  return Array.from(text);
}

function escapeRegex(text: string): string {
  return text.replace(/[.^$*+?{}[\]\\|()]/g, (char) => `\\${char}`);
}

class ContextGenerator {
  private readonly environment: { key: string; name: string };
  private identity: IdentityContext | null | undefined;
  private features: FeatureContext[] = [];
  /** Whether conditions of this context may read other flags (`$.flags.…`). */
  private readonly readsFlags: boolean;

  constructor(private readonly random: Random) {
    this.environment = random.pick(ENVIRONMENTS);
    this.readsFlags = random.chance(0.35);
  }

  generate(): OracleCase {
    this.identity = this.generateIdentity();
    this.features = this.random.sample(FEATURE_NAMES, this.random.int(1, 5)).map((name) => this.generateFeature(name, false));
    const segments: Array<[string, SegmentContext]> = [];
    const usedKeys = new Set<string>();
    // Now and then a larger context, where precedence between many overrides is decided.
    const segmentCount = this.random.chance(0.1) ? this.random.int(6, 12) : this.random.int(0, 5);
    for (let index = 0; index < segmentCount; index += 1) {
      let key = this.random.chance(0.6) ? String(this.random.int(1, 500)) : `seg_${this.random.int(1, 99)}`;
      while (usedKeys.has(key)) key = `${key}_`;
      usedKeys.add(key);
      segments.push([key, this.generateSegment(key)]);
    }
    if (this.identity && this.random.chance(0.3)) {
      const key = `identity_override_${this.random.int(0, 0xffffff).toString(16)}`;
      segments.splice(this.random.int(0, segments.length), 0, [key, this.generateIdentityOverrideSegment(key, this.identity.identifier)]);
    }
    const context: EvaluationContext = { environment: { ...this.environment } };
    if (this.identity !== undefined) context.identity = this.identity;
    if (segments.length > 0 || this.random.chance(0.5)) context.segments = Object.fromEntries(segments);
    context.features = Object.fromEntries(this.features.map((feature) => [feature.name, feature]));
    return { context, order: { segments: segments.map(([key]) => key), features: this.features.map((feature) => feature.name) } };
  }

  private generateIdentity(): IdentityContext | null | undefined {
    const roll = this.random.next();
    if (roll < 0.1) return undefined;
    if (roll < 0.15) return null;
    const identity: IdentityContext = { identifier: this.random.pick(IDENTIFIERS) };
    const keyRoll = this.random.next();
    if (keyRoll < 0.1) identity.key = '';
    else if (keyRoll < 0.45) identity.key = this.random.pick(['custom_key', 'K1', '42', `${this.environment.key}_${identity.identifier}`]);
    if (this.random.chance(0.9)) {
      const traits: Record<string, TraitValue | null> = {};
      for (const name of this.random.sample(TRAIT_NAMES, this.random.int(0, 6))) traits[name] = this.traitValue();
      identity.traits = traits;
    }
    return identity;
  }

  private traitValue(): TraitValue | null {
    const roll = this.random.next();
    if (roll < 0.4) return this.random.pick(STRINGS);
    if (roll < 0.6) return this.random.chance(0.03) ? 9007199254740993n : this.random.pick(INTS);
    if (roll < 0.8) return this.random.pick(FLOATS);
    if (roll < 0.9) return this.random.chance(0.5);
    return null;
  }

  private featureValue(): FeatureValueType {
    const roll = this.random.next();
    if (roll < 0.45) return this.random.pick(STRINGS);
    if (roll < 0.65) return this.random.pick(INTS);
    // Non-integral floats only: a feature value has no float form for integral values in our types.
    if (roll < 0.75) return this.random.pick([1.5, -0.25, 99.99]);
    if (roll < 0.9) return this.random.chance(0.5);
    return null;
  }

  private generateFeature(name: string, isOverride: boolean): FeatureContext {
    const feature: FeatureContext = {
      key: this.random.chance(0.8) ? String(this.random.int(1, 99999)) : `fs-${this.random.int(0, 0xffff).toString(16)}`,
      name,
      enabled: this.random.chance(0.6),
      value: this.featureValue(),
    };
    if (this.random.chance(isOverride ? 0.2 : 0.35)) feature.variants = this.generateVariants();
    if (isOverride) {
      const roll = this.random.next();
      if (roll >= 0.2) feature.priority = this.random.pick([0, 1, 1, 2, 5]);
    }
    this.maybeMetadata(feature, () => ({ id: this.random.int(1, 999) }));
    return feature;
  }

  private generateVariants(): FeatureValue[] {
    const weights = this.random.chance(0.5) ? [...this.random.pick(FULL_SPLITS)] : this.weightsUnder100();
    return weights.map((weight, index) => {
      const variant: FeatureValue = { value: this.featureValue(), weight, priority: this.random.chance(0.2) ? 1 : index + this.random.int(0, 2) };
      if (this.random.chance(0.7)) variant.key = `v${index + 1}`;
      return variant;
    });
  }

  /** One to three weights summing to at most 100. */
  private weightsUnder100(): Array<number | FloatNumber> {
    const weights: Array<number | FloatNumber> = [];
    let sum = 0;
    for (let count = this.random.int(1, 3); weights.length < count; ) {
      const weight = this.random.pick(VARIANT_WEIGHTS);
      if (sum + weight.valueOf() > 100) break;
      weights.push(weight);
      sum += weight.valueOf();
    }
    return weights;
  }

  private maybeMetadata(target: { metadata?: Record<string, unknown> }, make: () => Record<string, unknown>): void {
    const roll = this.random.next();
    if (roll < 0.5) target.metadata = make();
    else if (roll < 0.6) target.metadata = {};
  }

  private generateSegment(key: string): SegmentContext {
    const ruleCount = this.random.pick([0, 1, 1, 1, 1, 1, 1, 2, 2, 3]);
    const segment: SegmentContext = {
      key,
      name: this.random.pick(SEGMENT_NAMES),
      rules: Array.from({ length: ruleCount }, () => this.generateRule(0)),
    };
    const overrideCount = this.random.int(0, 3);
    if (overrideCount > 0 || this.random.chance(0.3)) {
      segment.overrides = Array.from({ length: overrideCount }, () =>
        this.generateFeature(this.random.chance(0.9) ? this.random.pick(this.features).name : 'ghost_feature', true),
      );
    }
    this.maybeMetadata(segment, () => ({ source: 'api', id: this.random.int(1, 999) }));
    return segment;
  }

  private generateIdentityOverrideSegment(key: string, identifier: string): SegmentContext {
    const identifiers = this.random.sample(
      IDENTIFIERS.filter((other) => other !== identifier),
      this.random.int(0, 2),
    );
    if (this.random.chance(0.8)) identifiers.splice(this.random.int(0, identifiers.length), 0, identifier);
    const overrides = this.random.sample(this.features, this.random.int(1, 2)).map((feature) => ({
      ...this.generateFeature(feature.name, true),
      priority: -Infinity,
    }));
    return {
      key,
      name: 'identity_overrides',
      rules: [{ type: 'ALL', conditions: [{ property: '$.identity.identifier', operator: 'IN', value: identifiers.join(',') }] }],
      overrides,
      metadata: { source: 'identity_override' },
    };
  }

  private generateRule(depth: number): SegmentRule {
    const rule: SegmentRule = { type: this.random.pick(RULE_TYPES) };
    const conditionCount = this.random.pick(depth === 0 ? [0, 1, 1, 1, 2, 3] : [1, 1, 2, 3]);
    if (conditionCount > 0 || this.random.chance(0.2)) rule.conditions = Array.from({ length: conditionCount }, () => this.generateCondition());
    if (depth < 2 && (conditionCount === 0 || this.random.chance(0.3))) {
      rule.rules = Array.from({ length: this.random.int(1, 2) }, () => this.generateRule(depth + 1));
    }
    return rule;
  }

  /** A property and the raw value it has in this context, as far as the generator can tell. */
  private generateProperty(): { property: string; raw: unknown } {
    const traits = this.identity?.traits ?? {};
    const traitNames = Object.keys(traits);
    const traitName = traitNames.length > 0 && this.random.chance(0.9) ? this.random.pick(traitNames) : this.random.pick([...TRAIT_NAMES, 'nope']);
    const trait = traits[traitName];
    const identifier = this.identity?.identifier;
    const roll = this.random.next();
    if (roll < 0.45 || (roll >= 0.72 && !this.readsFlags)) return { property: traitName, raw: trait };
    if (roll < 0.55) {
      const property = /^[A-Za-z_][A-Za-z0-9_]*$/.test(traitName) && this.random.chance(0.6) ? `$.identity.traits.${traitName}` : `$.identity.traits['${traitName}']`;
      return { property, raw: trait };
    }
    if (roll < 0.67) {
      const key = this.identity?.key || (identifier === undefined ? undefined : `${this.environment.key}_${identifier}`);
      return this.random.pick([
        { property: '$.identity.identifier', raw: identifier },
        { property: '$.identity.key', raw: key },
        { property: '$.environment.name', raw: this.environment.name },
        { property: '$.environment.key', raw: this.environment.key },
        { property: "$['environment']['name']", raw: this.environment.name },
      ]);
    }
    if (roll < 0.72) return { property: this.random.pick(['$.identity', '$.identity.traits', ...INVALID_PATHS, ...EXOTIC_PATHS]), raw: undefined };
    const feature = this.random.pick(this.features);
    if (this.random.chance(0.2)) {
      // Other reads of the flags: other members, wildcards and descendants (which see only the
      // flags resolved so far), a feature absent from the context, an object.
      const property = this.random.pick([
        `$.flags['${feature.name}'].reason`,
        `$.flags['${feature.name}'].variant`,
        `$.flags['${feature.name}'].name`,
        `$.flags['${feature.name}'].metadata.id`,
        `$['flags']['${feature.name}']['enabled']`,
        `$.flags["${feature.name}"].value`,
        '$.flags.ghost_feature.enabled',
        '$.flags.*.enabled',
        '$..enabled',
        '$.flags',
        `$.flags['${feature.name}']`,
        '$.flags[?@.enabled == true].name',
      ]);
      return { property, raw: this.random.pick([feature.name, feature.enabled, feature.value, 'STATIC', 'DEFAULT']) };
    }
    const field = this.random.chance(0.6) ? 'enabled' : 'value';
    const plain = /^[A-Za-z_][A-Za-z0-9_]*$/.test(feature.name) && this.random.chance(0.7);
    const property = plain ? `$.flags.${feature.name}.${field}` : `$.flags['${feature.name}'].${field}`;
    return { property, raw: field === 'enabled' ? feature.enabled : feature.value };
  }

  private generateCondition(): SegmentCondition {
    const operator = this.random.pick(OPERATORS);
    if (operator === 'PERCENTAGE_SPLIT' && this.random.chance(0.6)) {
      return { property: '', operator, value: this.percentage() };
    }
    const { property, raw } = this.generateProperty();
    const value = toPyValue(raw);
    return { property, operator, value: this.conditionValue(operator, value) };
  }

  private percentage(): string {
    return this.random.pick(['0', '10', '50', '50.5', '99.9', '100', 'abc', '', ' 50', 'inf', 'nan', '-1', '1e2', '5_0', '١٠']);
  }

  /** A condition value equal to the context value, near it, or a string Python casts oddly. */
  private near(value: PyValue): string {
    const text = pyStr(value);
    if (this.random.chance(0.45)) return text;
    switch (value.kind) {
      case 'int':
        return this.random.pick([
          (value.value + 1n).toString(),
          (value.value - 1n).toString(),
          `${text}.0`,
          `${text}.5`,
          ` ${text} `,
          `+${text}`,
          `${text}_0`,
          '٣',
          '１２',
          '0x1A',
          '1e3',
          'abc',
        ]);
      case 'float':
        return this.random.pick([String(value.value + 1), String(value.value - 0.5), String(Math.trunc(value.value)), '1e3', 'inf', '-inf', 'nan', '1_0.5', '.5', '1.', ' 2.5 ', 'Infinity', '1e400']);
      case 'bool':
        return this.random.pick(['true', 'false', 'True', 'False', 'FALSE', '1', '0', '']);
      case 'str':
        return this.random.pick([text.toUpperCase(), codePoints(text).slice(0, -1).join(''), `${text}z`, this.random.pick(STRINGS)]);
      case 'none':
        return this.random.pick(STRINGS);
    }
  }

  private conditionValue(operator: ConditionOperator, value: PyValue): string | string[] | null {
    const text = pyStr(value);
    const guess = this.random.chance(0.8);
    switch (operator) {
      case 'EQUAL':
      case 'NOT_EQUAL':
        return guess ? this.near(value) : this.random.pick(STRINGS);
      case 'GREATER_THAN':
      case 'GREATER_THAN_INCLUSIVE':
      case 'LESS_THAN':
      case 'LESS_THAN_INCLUSIVE':
        if (value.kind === 'str' && this.random.chance(0.6)) return `${this.random.pick(SEMVERS)}${this.random.chance(0.9) ? ':semver' : ''}`;
        return guess ? this.near(value) : `${this.random.pick(SEMVERS)}:semver`;
      case 'CONTAINS':
      case 'NOT_CONTAINS': {
        const points = codePoints(text);
        if (this.random.chance(0.5) || points.length === 0) return this.random.pick(STRINGS);
        const start = this.random.int(0, points.length - 1);
        return points.slice(start, this.random.int(start, points.length)).join('');
      }
      case 'IN':
        return this.inValue(value);
      case 'REGEX':
        return this.regexValue(text);
      case 'MODULO': {
        const divisor = this.random.pick([2, 3, 5, 2.5, -2, 0.1]);
        const number = value.kind === 'int' ? Number(value.value) : value.kind === 'float' ? value.value : value.kind === 'bool' ? Number(value.value) : 7;
        const remainder = number - divisor * Math.floor(number / divisor);
        if (guess) return `${divisor}|${this.random.chance(0.7) ? remainder : remainder + 1}`;
        return this.random.pick(['abc', '2|', '', '2|0|1', '|1', '2|x', 'inf|7', '-inf|7', 'inf|-7', 'nan|0', ' 2 | 1 ', '2_0|0', '1e1|3']);
      }
      case 'IS_SET':
      case 'IS_NOT_SET':
        return this.random.pick([null, '', 'x']);
      case 'PERCENTAGE_SPLIT':
        return this.percentage();
    }
  }

  private inValue(value: PyValue): string | string[] {
    const items = this.random.sample(STRINGS.filter((item) => !item.includes(',') && !item.includes('\n')), this.random.int(0, 3));
    if (this.random.chance(0.7)) items.splice(this.random.int(0, items.length), 0, value.kind === 'float' ? String(value.value) : pyStr(value));
    const form = this.random.next();
    if (form < 0.25) return items;
    if (form < 0.45) {
      // The JSON-array string form; numbers in it are stringified by Python (`1` -> "1", `1.0` -> "1.0").
      const members = items.map((item) => (/^-?[0-9]+(\.[0-9]+)?$/.test(item) && this.random.chance(0.5) ? item : JSON.stringify(item)));
      if (this.random.chance(0.3)) members.push(this.random.pick(['1.0', '1e2', 'true', 'null', '[1]', '{"a": 1}', '"\\u00fc"', '12345678901234567890', '-0', 'NaN']));
      // An unterminated array: Python falls back to splitting on commas.
      if (this.random.chance(0.05)) return `[${members.join(',')}`;
      return `[${members.join(this.random.pick([',', ', ']))}]`;
    }
    return items.join(',');
  }

  private regexValue(text: string): string {
    const points = codePoints(text);
    const prefix = escapeRegex(points.slice(0, this.random.int(0, points.length)).join(''));
    const suffix = escapeRegex(points.slice(this.random.int(0, points.length)).join(''));
    return this.random.pick([
      prefix,
      `(?i)${prefix.toUpperCase()}`,
      `.*${suffix}`,
      `${escapeRegex(text)}$`,
      `${escapeRegex(text)}\\Z`,
      `\\A${prefix}`,
      '\\d+',
      '[a-z]+$',
      '^$',
      '(?P<word>\\w+)(?P=word)?',
      '(?s).*',
      'True|False',
      '\\d+\\.\\d+',
      '(?x) [0-9] + # digits',
      '[^\\W\\d]+',
      '\\w{2,}',
      `(?:${prefix}){1,2}`,
      '(?i)k',
      '(?i)SS',
      '(?i)ſ',
      '\\x41|\\101',
      'a{,2}$',
      '.(?<=r)o',
      '(?a)\\w+$',
      '[[:alpha:]]',
      '1e\\+16',
      '-?\\d+(?:\\.\\d+)?$',
      '(?m)^b',
      '\\bWorld',
    ]);
  }
}

/** One random context from `random`. */
export function generateContext(random: Random): OracleCase {
  return new ContextGenerator(random).generate();
}
