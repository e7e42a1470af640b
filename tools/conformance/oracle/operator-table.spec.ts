import { FloatNumber } from '@flagline/evaluation-engine';
import { operatorTable } from './operator-table';

const entries = [...operatorTable()];
const conditions = entries.map(({ oracleCase }) => {
  const condition = oracleCase.context.segments?.['1']?.rules[0]?.conditions?.[0];
  if (!condition) throw new Error('a table case has one condition');
  return { condition, trait: oracleCase.context.identity?.traits?.['t'] };
});

describe('operatorTable', () => {
  it('pairs every trait value with every condition value for each operator but IS_SET / IS_NOT_SET', () => {
    const operators = new Set(conditions.map(({ condition }) => condition.operator));
    expect(operators.size).toBe(12);
    expect(operators.has('IS_SET')).toBe(false);
    const perOperator = (operator: string) => conditions.filter(({ condition }) => condition.operator === operator).length;
    expect(perOperator('EQUAL')).toBe(perOperator('MODULO'));
    expect(perOperator('REGEX')).toBeLessThan(perOperator('EQUAL'));
  });

  it('leaves out only the regex patterns Python rejects', () => {
    const patterns = new Set(conditions.filter(({ condition }) => condition.operator === 'REGEX').map(({ condition }) => condition.value));
    expect(patterns.has('+7')).toBe(false);
    expect(patterns.has('(?i)pro')).toBe(true);
    expect(conditions.some(({ condition }) => condition.operator === 'EQUAL' && condition.value === '+7')).toBe(true);
  });

  it('has traits in float form, big ints and booleans, and unique labels', () => {
    const traits = conditions.map(({ trait }) => trait);
    expect(traits.some((trait) => trait instanceof FloatNumber)).toBe(true);
    expect(traits).toContain(9007199254740993n);
    expect(traits).toContain(false);
    expect(new Set(entries.map(({ label }) => label)).size).toBe(entries.length);
  });
});
