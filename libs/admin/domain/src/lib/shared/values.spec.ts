import { allocationsProblem, featureValueProblem, MAX_FEATURE_VALUE_LENGTH, MAX_TRAIT_VALUE_LENGTH, traitValueProblem } from './values';

describe('Feature value', () => {
  it.each([null, true, false, 0, -7, Number.MAX_SAFE_INTEGER, '', 'v2', 'x'.repeat(MAX_FEATURE_VALUE_LENGTH)])('accepts %p', (value) => {
    expect(featureValueProblem(value)).toBeNull();
  });

  it.each([1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER + 1, undefined, {}, [], ['a']])('rejects %p', (value) => {
    expect(featureValueProblem(value)).toBe('must be a string, an integer or a boolean');
  });

  it('rejects a string over the length limit', () => {
    expect(featureValueProblem('x'.repeat(MAX_FEATURE_VALUE_LENGTH + 1))).toBe(`must be at most ${MAX_FEATURE_VALUE_LENGTH} characters`);
  });
});

describe('Trait value', () => {
  it.each([null, true, 0, 1.5, -3, '', 'pro', 'x'.repeat(MAX_TRAIT_VALUE_LENGTH)])('accepts %p', (value) => {
    expect(traitValueProblem(value)).toBeNull();
  });

  it.each([Number.NaN, Number.NEGATIVE_INFINITY])('rejects the number %p', (value) => {
    expect(traitValueProblem(value)).toBe('must be a finite number');
  });

  it.each([undefined, {}, ['a']])('rejects %p', (value) => {
    expect(traitValueProblem(value)).toBe('must be a string, a number, a boolean or null');
  });

  it('rejects a string over the length limit', () => {
    expect(traitValueProblem('x'.repeat(MAX_TRAIT_VALUE_LENGTH + 1))).toBe(`must be at most ${MAX_TRAIT_VALUE_LENGTH} characters`);
  });
});

describe('Allocations', () => {
  it('accepts none', () => {
    expect(allocationsProblem([])).toBeNull();
  });

  it('accepts allocations summing to 100 up to float rounding', () => {
    expect(
      allocationsProblem([
        { optionId: 1, percentage: 33.3 },
        { optionId: 2, percentage: 33.3 },
        { optionId: 3, percentage: 33.4 },
      ]),
    ).toBeNull();
  });

  it('accepts allocations summing to less than 100', () => {
    expect(allocationsProblem([{ optionId: 1, percentage: 0 }])).toBeNull();
  });

  it('rejects allocations summing over 100', () => {
    expect(
      allocationsProblem([
        { optionId: 1, percentage: 60 },
        { optionId: 2, percentage: 40.5 },
      ]),
    ).toBe('allocations sum to 100.5, more than 100');
  });

  it('rejects an option allocated twice', () => {
    expect(
      allocationsProblem([
        { optionId: 1, percentage: 10 },
        { optionId: 1, percentage: 10 },
      ]),
    ).toBe('option 1 is allocated twice');
  });

  it.each([-1, 101, Number.NaN])('rejects a percentage of %p', (percentage) => {
    expect(allocationsProblem([{ optionId: 4, percentage }])).toBe('allocation of option 4 must be between 0 and 100');
  });
});
