/**
 * The operator table: every operator applied, in a one-condition segment, to every pairing of an
 * awkward trait value with an awkward condition value. Where the random contexts sample
 * coercions, this walks them all: numeric-looking strings (`"007"`, `" 7"`, `"1_000"`, `"٣"`),
 * ints, floats in float form (`5.0`, `1e16`), big ints, booleans, semver strings, non-BMP text;
 * against condition values Python's `int()` / `float()` read oddly (`"inf"`, `"7_0"`, `"１２"`),
 * semver conditions, IN lists in both forms, MODULO pairs and Python-only regex syntax.
 */
import { FloatNumber, type TraitValue } from '@flagline/evaluation-engine';
import { OPERATORS as ALL_OPERATORS, type OracleCase } from './context-generator';

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

const TRAIT_VALUES: readonly TraitValue[] = [
  ...['pro', 'PRO', '', ' ', '7', '007', '-7', '+7', ' 7', '7 ', '1_000', '1.5', '1.50', '-0', '0.0', '1e3', '1.', '.5', 'inf', 'nan', 'NaN'],
  ...['true', 'True', 'False', 'false', '1.2.3', '1.2.3-rc.10', '1.2.3-rc.9', '1.2.3+b', '2.0.0-alpha.1', 'v1.2.3', '01.2.3', '1.2'],
  ...['٣', '１２', '😀', 'ｚ', 'ß', 'K', 'ſ', 'İ', 'a\nb', 'ab\n', 'Hello World', 'a,b', '[1, 2]', '12345678901234567890'],
  ...[0, 1, 7, -7, 10, 100, 9007199254740993n, 1.5, -0.25, 0.1, 1e-7, 1e16, 123456.789, true, false],
  ...[new FloatNumber(5), new FloatNumber(0), new FloatNumber(-3), new FloatNumber(1e16), new FloatNumber(1e21), new FloatNumber(1e22)],
];

const CONDITION_VALUES: readonly string[] = unique([
  ...['pro', 'PRO', '', ' ', '7', '007', '-7', '+7', ' 7 ', '7_0', '7.0', '7.5', '1.5', '1.50', '5', '5.0', '0', '-0', '1e3', '1e16', '1e+16'],
  ...['inf', '-inf', 'nan', 'Infinity', '1e400', '0x1A', '٣', '１２', 'true', 'false', 'True', 'False', 'FALSE', '1'],
  ...['1.2.3:semver', '1.2.4:semver', '1.2.3-rc.9:semver', '1.2.3-rc.10:semver', '1.2:semver', 'v1.2.3:semver', '1.2.3', ':semver'],
  ...['😀', 'ｚ', 'ß', 'SS', 'a', 'b', 'World', '50', '100', '0.5'],
  ...['2|1', '2|0', '2.5|0.5', '-2|1', '0.1|0', 'inf|7', '-inf|7', 'nan|0', ' 2 | 1 ', '2|', '|', '3|1.0', '1e1|3'],
  ...['[7, "pro"]', '["7.0"]', '[1.0]', '[true]', '[null]', '["😀"]', '[7, "pro"', 'pro,PRO', '7,8'],
  ...['(?i)pro', '(?i)ss', '(?i)ß', '(?i)k', '(?i)ſ', '\\d', '\\w+$', '.*b$', 'b$', '(?s)a.b', 'a.b', 'o\\Z', '(?a)\\w', '^\\s', 'True'],
  ...['1e\\+16', '5\\.0', '\\bW', '(?x) p r o', '[[:alpha:]]', 'a{,2}', '(?m)^b', '(?P<x>o)(?P=x)?'],
]);

/** The operators that compare a value (IS_SET / IS_NOT_SET read none). */
const OPERATORS = ALL_OPERATORS.filter((operator) => operator !== 'IS_SET' && operator !== 'IS_NOT_SET');

/** Patterns Python's `re` rejects: the reference engine raises on them, where ours does not match. */
const INVALID_PATTERNS = new Set(['+7', '[7, "pro"']);

/** Every case of the table, with a label naming its trait value, operator and condition value. */
export function* operatorTable(): Generator<{ label: string; oracleCase: OracleCase }> {
  for (const [traitIndex, trait] of TRAIT_VALUES.entries()) {
    for (const operator of OPERATORS) {
      for (const value of CONDITION_VALUES) {
        if (operator === 'REGEX' && INVALID_PATTERNS.has(value)) continue;
        yield {
          label: `operator table: trait #${traitIndex} ${operator} ${JSON.stringify(value)}`,
          oracleCase: {
            context: {
              environment: { key: 'k', name: 'n' },
              identity: { identifier: 'a', traits: { t: trait } },
              segments: { '1': { key: '1', name: 's', rules: [{ type: 'ALL', conditions: [{ property: 't', operator, value }] }] } },
            },
            order: {},
          },
        };
      }
    }
  }
}
