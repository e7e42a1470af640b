import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { compileEnvironment } from './environment.compiler';
import { evaluate, type IdentityInput } from './evaluate';
import { explainEvaluation, type ExplainedRule, type ExplainedSegment, type FlagExplanation } from './evaluation-explainer';
import { toEvaluationResult } from './evaluation-result.mapper';
import { readGoldenCase, type GoldenCase } from './golden-case.reader';
import { compileIdentityOverrides } from './identity-overrides.compiler';
import { withLegacyFallbackReasons } from './legacy-fallback-reason';
import type { EvaluationResult, FlagResult } from './types/evaluation-result.types';

const repositoryRoot = resolve(__dirname, '..', '..', '..', '..', '..');
const goldenDirectory = process.env['FLAGSMITH_ENGINE_TEST_DATA'] || resolve(repositoryRoot, '..', 'shared', 'flagsmith-engine-test-data');
const referenceDirectory = join(__dirname, 'reference-cases');

function caseFiles(directory: string): string[] {
  if (!existsSync(directory)) return [];
  return readdirSync(directory, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .flatMap((entry) => {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) return caseFiles(path);
      return /\.jsonc?$/.test(entry.name) && entry.name !== 'schema.json' ? [path] : [];
    });
}

/** What a group of verdicts (null: not evaluated) combines to under a rule type; undefined when the evaluated ones cannot decide it. */
function groupVerdict(type: string, verdicts: ReadonlyArray<boolean | null>): boolean | undefined {
  if (verdicts.length === 0) return true;
  const decided = verdicts.every((verdict) => verdict !== null);
  if (type === 'ALL') return verdicts.includes(false) ? false : decided ? true : undefined;
  if (type === 'ANY') return verdicts.includes(true) ? true : decided ? false : undefined;
  if (type === 'NONE') return verdicts.includes(true) ? false : decided ? true : undefined;
  return undefined;
}

/** A rule's verdict recomputed from its reported conditions and sub-rules under the rule semantics (Flagsmith's). */
function recomputedRule(rule: ExplainedRule): boolean | undefined {
  if (rule.type === 'INVALID') return false;
  if (rule.type === 'UNKNOWN') return rule.conditions.length === 0 && rule.rules.length === 0;
  const conditions = groupVerdict(rule.type, rule.conditions.map((condition) => condition.matched));
  const rules = groupVerdict(rule.type, rule.rules.map((subRule) => subRule.matched));
  if (conditions === false || rules === false) return false;
  return conditions === true && rules === true ? true : undefined;
}

function checkRule(rule: ExplainedRule): void {
  if (!rule.evaluated) {
    expect(rule.matched).toBeNull();
    return;
  }
  for (const subRule of rule.rules) checkRule(subRule);
  for (const condition of rule.conditions) {
    expect(condition.evaluated).toBe(condition.matched !== null);
    if (condition.split !== undefined && condition.split.threshold !== null) expect(condition.matched).toBe(condition.split.percentage <= condition.split.threshold);
  }
  expect(recomputedRule(rule)).toBe(rule.matched);
}

function checkSegment(segment: ExplainedSegment): void {
  for (const rule of segment.rules) checkRule(rule);
  if (segment.matched) {
    expect(segment.rules.length).toBeGreaterThan(0);
    for (const rule of segment.rules) expect(rule.matched).toBe(true);
  } else if (segment.evaluated && segment.cutCycle !== true) {
    expect(segment.rules.some((rule) => rule.matched === false)).toBe(true);
  }
}

/** Checks an explanation against itself: segments, winner, bucket. */
function checkExplanation(flag: FlagExplanation): void {
  flag.why.segments.forEach(checkSegment);
  const priorities = flag.why.segments.map((segment) => segment.priority ?? Infinity);
  expect(priorities).toStrictEqual([...priorities].sort((a, b) => a - b));
  const firstMatched = flag.why.segments.find((segment) => segment.matched);
  const winner = flag.why.winner;
  if (flag.why.identityOverride) {
    expect(winner.kind).toBe('IDENTITY_OVERRIDE');
  } else if (firstMatched === undefined) {
    expect(winner.kind).toBe('ENVIRONMENT_DEFAULT');
  } else {
    // The lowest priority among matched segments wins (the first in context order on a tie).
    expect(winner).toMatchObject({ kind: 'SEGMENT_OVERRIDE', segment: firstMatched.key, name: firstMatched.name });
    expect(flag.why.segments.filter((segment) => segment.won)).toStrictEqual([firstMatched]);
  }
  if (winner.kind === 'SEGMENT_OVERRIDE' && !flag.reason.startsWith('SPLIT') && !flag.reason.startsWith('ERROR')) {
    expect(flag.reason).toBe(`TARGETING_MATCH; segment=${winner.name}`);
  }
  const bucket = flag.why.bucket;
  if (bucket !== null) {
    const holding = bucket.buckets.filter((candidate) => candidate.start <= bucket.percentage && bucket.percentage < candidate.limit);
    const chosen = bucket.buckets.filter((candidate) => candidate.chosen);
    expect(chosen).toStrictEqual(holding.slice(0, 1));
    expect(bucket.chosen).toBe(chosen[0] === undefined ? 'control' : chosen[0].variant);
    expect(flag.variant).toBe(bucket.chosen);
    if (chosen[0] !== undefined) expect(flag.value).toStrictEqual(chosen[0].value);
  }
}

function explained(golden: GoldenCase): { result: EvaluationResult; explanation: readonly FlagExplanation[] } {
  const { identity, ...environment } = golden.context;
  const compiled = compileEnvironment(environment, golden.order);
  const input: IdentityInput | null = identity ?? null;
  const explanation = explainEvaluation(compiled, input).flags;
  const flags: Record<string, FlagResult> = {};
  for (const flag of explanation) {
    const served = toEvaluationResult(evaluate(compiled, input)).flags[flag.feature];
    Object.defineProperty(flags, flag.feature, {
      value: { ...served, enabled: flag.enabled, value: flag.value, reason: flag.reason, variant: flag.variant },
      enumerable: true,
    });
  }
  return { result: { flags, segments: toEvaluationResult(evaluate(compiled, input)).segments }, explanation };
}

describe('explained evaluation', () => {
  const golden = caseFiles(goldenDirectory);
  const reference = caseFiles(referenceDirectory);
  if (golden.length === 0) console.warn(`golden cases not explained: ${goldenDirectory} holds none (set FLAGSMITH_ENGINE_TEST_DATA)`);

  it('given the case directories when listed then they hold cases', () => {
    expect(reference.length).toBeGreaterThanOrEqual(18);
  });

  // jest refuses an empty table: without the golden cases (warned above) there is nothing to list.
  if (golden.length > 0) {
    describe.each(golden.map((file) => [relative(goldenDirectory, file), file]))('golden case %s', (_name, file) => {
      it('when explained then every flag answers as expected and the explanation is consistent with itself', () => {
        const parsed = readGoldenCase(readFileSync(file, 'utf8'));
        const { result, explanation } = explained(parsed);

        expect(withLegacyFallbackReasons(parsed.context, result).result.flags).toStrictEqual(parsed.result.flags);
        explanation.forEach(checkExplanation);
      });
    });
  }

  describe.each(reference.map((file) => [relative(referenceDirectory, file), file]))('reference case %s', (_name, file) => {
    it('when explained then every flag answers as the reference engine did and the explanation is consistent with itself', () => {
      const parsed = readGoldenCase(readFileSync(file, 'utf8'));
      const { result, explanation } = explained(parsed);

      expect(result.flags).toStrictEqual(parsed.result.flags);
      explanation.forEach(checkExplanation);
    });
  });

  it('given a flag dependency cycle when explained then the segments whose evaluation cut it are reported as such, not matched', () => {
    const parsed = readGoldenCase(readFileSync(join(referenceDirectory, 'two_cycle.jsonc'), 'utf8'));
    const { explanation } = explained(parsed);

    for (const name of ['a', 'b']) {
      const flag = explanation.find((candidate) => candidate.feature === name);
      expect(flag?.reason).toBe('ERROR; code=CIRCULAR_DEPENDENCY');
      expect(flag?.why.segments).toMatchObject([{ evaluated: true, matched: false, cutCycle: true, won: false }]);
      // The condition that read the other flag saw nothing (the cycle was cut there).
      expect(flag?.why.segments[0]?.rules[0]?.conditions.some((condition) => condition.property?.startsWith('$.flags.') === true && condition.read?.type === 'None')).toBe(true);
    }
  });

  it('given an identity override when explained then it is reported as applied and winning over a matching segment', () => {
    const environment = compileEnvironment({
      environment: { key: 'env', name: 'Production' },
      features: { banner: { key: '1', name: 'banner', enabled: false, value: 'off' } },
      segments: {
        '7': {
          key: '7',
          name: 'pro',
          rules: [{ type: 'ALL', conditions: [{ property: 'plan', operator: 'EQUAL', value: 'pro' }], rules: [] }],
          overrides: [{ key: '2', name: 'banner', enabled: true, value: 'segment', priority: 0 }],
        },
      },
    });
    const overrides = compileIdentityOverrides(environment, [{ key: 'uuid', name: 'banner', enabled: true, value: 'mine' }]);

    const [flag] = explainEvaluation(environment, { identifier: 'ada', traits: { plan: 'pro' } }, overrides).flags;

    expect(flag).toMatchObject({ value: 'mine', reason: 'TARGETING_MATCH; segment=identity_overrides', why: { identityOverride: true, winner: { kind: 'IDENTITY_OVERRIDE' } } });
    expect(flag?.why.segments).toMatchObject([
      { key: '7', name: 'pro', priority: 0, evaluated: true, matched: true, won: false, rules: [{ type: 'ALL', matched: true, conditions: [{ operator: 'EQUAL', property: 'plan', expected: 'pro', read: { value: 'pro', type: 'str' }, matched: true }] }] },
    ]);
  });

  it('given a multivariate default and a percentage split when explained then the hash percentages and buckets are reported', () => {
    const environment = compileEnvironment({
      environment: { key: 'env', name: 'Production' },
      features: {
        colour: {
          key: '10',
          name: 'colour',
          enabled: true,
          value: 'grey',
          variants: [
            { key: 'red', value: 'red', weight: 30, priority: 1 },
            { key: 'blue', value: 'blue', weight: 30, priority: 2 },
          ],
        },
      },
      segments: {
        '3': {
          key: '3',
          name: 'half',
          rules: [{ type: 'ALL', conditions: [{ property: '', operator: 'PERCENTAGE_SPLIT', value: '50' }], rules: [] }],
          overrides: [{ key: '11', name: 'colour', enabled: true, value: 'green', priority: 0 }],
        },
      },
    });
    const identities = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((identifier) => explainEvaluation(environment, { identifier, key: identifier }).flags[0]);

    for (const flag of identities) {
      if (flag === undefined) throw new Error('no flag explained');
      const [segment] = flag.why.segments;
      const split = segment?.rules[0]?.conditions[0]?.split;
      expect(split?.hashed).toStrictEqual(['3', expect.any(String)]);
      expect(segment?.matched).toBe((split?.percentage ?? Infinity) <= 50);
      if (segment?.matched === true) {
        expect(flag.value).toBe('green');
        expect(flag.why.bucket).toBeNull();
      } else {
        expect(flag.why.bucket?.hashed[0]).toBe('10');
        expect(flag.why.bucket?.buckets.map(({ start, limit }) => [start, limit])).toStrictEqual([[0, 30], [30, 60]]);
      }
      checkExplanation(flag);
    }
    // Both sides of the split are exercised.
    expect(new Set(identities.map((flag) => flag?.why.segments[0]?.matched)).size).toBe(2);
  });
});
