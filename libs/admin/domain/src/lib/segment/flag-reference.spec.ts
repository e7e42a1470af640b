import { flagReadsOf, parseFlagReference } from './flag-reference';
import { parseSegmentRules, type SegmentRule } from './segment-rule';

const problemsOf = (property: string) =>
  parseSegmentRules([{ type: 'ALL', conditions: [{ property, operator: 'EQUAL', value: 'true' }] }]).errors;

describe('Flag references in condition properties', () => {
  it.each([
    ['$.flags.new_ui.enabled', 'new_ui', 'enabled'],
    ['$.flags.new_ui.value', 'new_ui', 'value'],
    ["$.flags['my flag'].enabled", 'my flag', 'enabled'],
    ['$.flags["v2.checkout"].value', 'v2.checkout', 'value'],
    ["$['flags']['new_ui']['enabled']", 'new_ui', 'enabled'],
    // Hyphens pass in shorthand, in json-p3 as in the reference engine's jsonpath_rfc9535.
    ['$.flags.new-ui.enabled', 'new-ui', 'enabled'],
  ])('reads %s as feature %j, field %j', (property, featureName, field) => {
    expect(parseFlagReference(property)).toEqual({ reference: { featureName, field } });
    expect(problemsOf(property)).toEqual([]);
  });

  it.each(['plan', '$.identity.traits.plan', '$.environment.name', '$.identity.key', '$flags.x.enabled', '$.flagship.enabled'])('leaves %s alone', (property) => {
    expect(parseFlagReference(property)).toBeNull();
    expect(problemsOf(property)).toEqual([]);
  });

  it.each([
    ['$.flags.new_ui.reason', 'reads "reason" of a flag; only .enabled and .value can be read'],
    ['$.flags.new_ui', 'must be $.flags.<feature name>.enabled or $.flags.<feature name>.value'],
    ['$.flags', 'must be $.flags.<feature name>.enabled'],
    ['$.flags.a.b.enabled', "a name with spaces, dots or other symbols goes in brackets: $.flags['my flag'].enabled"],
    ['$.flags[*].enabled', 'must be $.flags.<feature name>.enabled'],
    ['$.flags[0].value', 'must be $.flags.<feature name>.enabled'],
    ['$..flags.x.enabled', 'must be $.flags.<feature name>.enabled'],
    ['$.flags.new_ui.enabled[0]', 'must be $.flags.<feature name>.enabled'],
    ['$.flags.my flag.enabled', 'is not a valid JSONPath'],
    ["$.flags['unclosed.enabled", 'is not a valid JSONPath'],
  ])('refuses %s, naming the property', (property, message) => {
    const errors = problemsOf(property);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.field).toBe('rules[0].conditions[0].property');
    expect(errors[0]?.message).toContain(message);
  });

  it('lists every read of a rule tree with its property path, once per rules array', () => {
    const rules: SegmentRule[] = [
      {
        type: 'ALL',
        conditions: [{ property: '$.flags.a.enabled', operator: 'EQUAL', value: 'true' }],
        rules: [{ type: 'NONE', rules: [], conditions: [{ property: 'plan', operator: 'EQUAL', value: 'x' }, { property: "$.flags['b c'].value", operator: 'EQUAL', value: '1' }] }],
      },
    ];
    const reads = flagReadsOf(rules);
    expect(reads).toEqual([
      { featureName: 'a', field: 'enabled', path: 'rules[0].conditions[0].property' },
      { featureName: 'b c', field: 'value', path: 'rules[0].rules[0].conditions[1].property' },
    ]);
    expect(flagReadsOf(rules)).toBe(reads);
  });
});
