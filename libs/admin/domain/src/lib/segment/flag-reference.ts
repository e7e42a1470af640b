/**
 * Flag references in segment conditions: a condition whose property is the JSONPath
 * `$.flags.<feature name>.enabled` or `$.flags.<feature name>.value` reads another flag's result in
 * the same evaluation (Flagsmith's engine 11). The property is parsed with the same RFC 9535
 * JSONPath library the evaluation engine uses (json-p3), so what is accepted here is exactly what
 * the engine reads: a chain of three name selectors, `flags`, the feature's name and the field.
 * Names that shorthand cannot spell (spaces, dots, quotes, a leading digit) go in brackets:
 * `$.flags['my flag'].enabled` or `$.flags["v2.checkout"].value`.
 */
import { compile, jsonpath, type JSONPathQuery } from 'json-p3';
import type { SegmentRule } from './segment-rule';

export const FLAG_FIELDS = ['enabled', 'value'] as const;
export type FlagField = (typeof FLAG_FIELDS)[number];

export interface FlagReference {
  /** The feature's name, exactly as written (the engine looks flags up by exact name). */
  readonly featureName: string;
  readonly field: FlagField;
}

/** A flag reference found in a rule tree, with the path of its condition's property. */
export interface FlagRead extends FlagReference {
  /** e.g. `rules[0].rules[1].conditions[2].property`. */
  readonly path: string;
}

export type FlagReferenceParse = { readonly reference: FlagReference } | { readonly problem: string };

const FORM = `must be $.flags.<feature name>.enabled or $.flags.<feature name>.value (a name with spaces, dots or other symbols goes in brackets: $.flags['my flag'].enabled)`;

/** `$.flags`, `$['flags']` or `$["flags"]`, followed by nothing, `.` or `[`: text meant as a flag read. */
const FLAGS_PREFIX = /^\$(?:\.\.?flags|\[\s*(?:'flags'|"flags")\s*\])(?:$|[.[\s])/;

function isFlagsRoot(query: JSONPathQuery): boolean {
  const first = query.segments[0];
  return first !== undefined && first.selectors.some((selector) => selector instanceof jsonpath.selectors.NameSelector && selector.name === 'flags');
}

/** The one name a child segment selects (`.name` or `['name']`), or null for any other segment. */
function selectedName(segment: JSONPathQuery['segments'][number]): string | null {
  const [selector, ...others] = segment.selectors;
  if (others.length > 0 || segment.toString().startsWith('..')) return null;
  return selector instanceof jsonpath.selectors.NameSelector ? selector.name : null;
}

/**
 * Parses a condition property as a flag reference: `null` when the property does not read
 * `$.flags` at all (a trait or another context path), `{ problem }` when it reads `$.flags` in a
 * form the engine cannot resolve to one flag's `enabled` or `value`.
 */
export function parseFlagReference(property: string): FlagReferenceParse | null {
  if (!property.startsWith('$')) return null;
  let query: JSONPathQuery;
  try {
    query = compile(property);
  } catch (error) {
    if (!FLAGS_PREFIX.test(property)) return null;
    const detail = error instanceof Error ? `: ${error.message}` : '';
    return { problem: `is not a valid JSONPath${detail}; it ${FORM}` };
  }
  if (!isFlagsRoot(query)) return null;
  const names = query.segments.map(selectedName);
  if (names.length !== 3 || names.includes(null)) return { problem: FORM };
  const [, featureName = '', field = ''] = names as string[];
  if (!(FLAG_FIELDS as readonly string[]).includes(field)) return { problem: `reads "${field}" of a flag; only .enabled and .value can be read: it ${FORM}` };
  if (featureName === '') return { problem: `names no feature; it ${FORM}` };
  return { reference: { featureName, field: field as FlagField } };
}

/** The problem with a condition property that reads `$.flags`, or null when it is fine (or no flag read). */
export function flagReferenceProblem(property: string): string | null {
  const parsed = parseFlagReference(property);
  return parsed !== null && 'problem' in parsed ? parsed.problem : null;
}

const readsByRules = new WeakMap<readonly SegmentRule[], readonly FlagRead[]>();

/**
 * Every flag a segment's rules read, in rule order, each with the path of its condition's
 * property. Memoised per rules array (rules are immutable in the project state), so the
 * dependency checks parse a segment's rules once however often they are consulted.
 */
export function flagReadsOf(rules: readonly SegmentRule[], path = 'rules'): readonly FlagRead[] {
  const known = path === 'rules' ? readsByRules.get(rules) : undefined;
  if (known) return known;
  const reads: FlagRead[] = [];
  const visit = (rule: SegmentRule, at: string): void => {
    rule.conditions.forEach((condition, index) => {
      const parsed = parseFlagReference(condition.property);
      if (parsed !== null && 'reference' in parsed) reads.push({ ...parsed.reference, path: `${at}.conditions[${index}].property` });
    });
    rule.rules.forEach((child, index) => visit(child, `${at}.rules[${index}]`));
  };
  rules.forEach((rule, index) => visit(rule, `${path}[${index}]`));
  if (path === 'rules') readsByRules.set(rules, reads);
  return reads;
}
