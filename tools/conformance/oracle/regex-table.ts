/**
 * Random Python regular expressions for REGEX conditions: patterns built from a grammar of atoms
 * (classes, escapes, anchors, lookarounds, named groups and backreferences, atomic groups,
 * non-ASCII letters, emoji), quantifiers (greedy, lazy, possessive, `{,n}`) and global flags,
 * each tried on a subject drawn from awkward strings. Python rejects some of them; our engine then
 * never matches, which is what a rejected pattern is compared against.
 *
 * Left out, as known differences of our translation: group-scoped flags such as `(?i:…)`, which
 * JS in Node 20 cannot express; IGNORECASE combined with ASCII (`(?ia)`), which in Python leaves
 * non-ASCII letters case-sensitive; numbered backreferences, since a reference to a group that
 * took no part in the match fails in Python and matches the empty string in JS (`(b)?a\1`
 * against "a"), which no JS pattern can tell apart. The named backreference of the grammar
 * follows its group directly, which always takes part.
 */
import type { OracleCase } from './context-generator';
import type { Random } from './random';

const ATOMS = [
  ...['\\w', '\\W', '\\d', '\\D', '\\s', '\\S', '\\b', '\\B', '.', '[^a]', '[a-z]', '[A-Z]', '^', '$', '\\Z', '\\A'],
  ...['a', 'b', 'A', 'é', 'É', 'ß', 'K', 'k', 'ſ', 's', 'S', '1', '٣', ' ', '\\n', '\\t', '-', '_', 'Σ', 'σ', 'ς', 'ǅ', 'ﬀ', 'i', 'I', 'İ', 'ı'],
  ...['(a|b)', '(?P<n>a)(?P=n)', '(?=a)', '(?!a)', '(?<=a)', '(?<!a)', '(?:ab)', '[\\w-]', '[\\d.]', '[^\\W\\d]', '[\\s\\S]'],
  ...['\\u00e9', '\\x41', '\\101', '[[:alpha:]]', '\\.', '\\$', '(?>a+)', '\\U0001F600', '😀', '[😀-😂]', '[^😀]', '\\w+'],
];
const QUANTIFIERS = ['', '', '', '*', '+', '?', '*?', '+?', '{2}', '{,2}', '{1,}', '*+', '++'];
const FLAGS = ['', '', '', '(?i)', '(?s)', '(?m)', '(?a)', '(?x)', '(?is)', '(?u)', '(?s:', '(?-i:'];
const SUBJECTS = [
  ...['a', 'aa', 'ab', 'A', 'AB', 'é', 'É', 'ß', 'SS', 'ss', 'K', 'k', 'ſ', 'S', '1', '٣', ' ', '\n', 'a\n', 'ab\nb', ''],
  ...['_', '-', 'ǅ', 'ǆ', 'Ǆ', 'ﬀ', 'FF', 'Σ', 'σ', 'ς', '😀', '😁a', 'a😀', 'Hello World', 'aab', 'ba', '\t', 'A1_', 'i', 'I', 'İ', 'ı'],
];

/** Whether the reference engine's error says Python's `re` rejected the pattern. */
export function isRejectedPattern(error: string): boolean {
  return error.startsWith('error: ');
}

/** One random pattern and subject as a one-condition context. */
export function regexCase(random: Random): OracleCase {
  const flag = random.pick(FLAGS);
  let pattern = flag;
  for (let count = random.int(1, 4); count > 0; count -= 1) pattern += random.pick(ATOMS) + random.pick(QUANTIFIERS);
  if (flag.endsWith(':')) pattern += ')';
  const subject = random.pick(SUBJECTS) + (random.chance(0.3) ? random.pick(SUBJECTS) : '');
  return {
    context: {
      environment: { key: 'k', name: 'n' },
      identity: { identifier: 'a', traits: { t: subject } },
      segments: { '1': { key: '1', name: 's', rules: [{ type: 'ALL', conditions: [{ property: 't', operator: 'REGEX', value: pattern }] }] } },
    },
    order: {},
    ifPatternRejected: { flags: {}, segments: [] },
  };
}
