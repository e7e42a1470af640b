import { START } from '@kurrent/kurrentdb-client';
import { UnsupportedPositionError, isStrictlyAfter, toGlobalPosition, toPosition, toStartPosition } from './position.mapping';

describe('toGlobalPosition', () => {
  it('is the log position of a self-committed event (commit = prepare)', () => {
    expect(toGlobalPosition({ commit: 1_048_576n, prepare: 1_048_576n })).toBe(1_048_576);
  });

  it('refuses events of legacy explicit transactions (commit after prepare)', () => {
    expect(() => toGlobalPosition({ commit: 2000n, prepare: 1500n })).toThrow(UnsupportedPositionError);
  });

  it('throws rather than rounding a position beyond 2^53 bytes', () => {
    const beyond = 2n ** 53n + 1n;
    expect(() => toGlobalPosition({ commit: beyond, prepare: beyond })).toThrow(RangeError);
  });
});

describe('toPosition', () => {
  it('is the inverse of toGlobalPosition', () => {
    expect(toPosition(4242)).toEqual({ commit: 4242n, prepare: 4242n });
    expect(toGlobalPosition(toPosition(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
  });

  it.each([-1, 0.5, Number.NaN])('refuses %p', (position) => {
    expect(() => toPosition(position)).toThrow(RangeError);
  });
});

describe('toStartPosition', () => {
  it('starts at the beginning of $all without a position', () => {
    expect(toStartPosition(undefined)).toBe(START);
    expect(toStartPosition(0)).toBe(START);
  });

  it('starts at the position itself, the event found there being dropped by isStrictlyAfter', () => {
    expect(toStartPosition(8192)).toEqual({ commit: 8192n, prepare: 8192n });
  });
});

describe('isStrictlyAfter', () => {
  it('keeps every event without a lower bound', () => {
    expect(isStrictlyAfter(0, undefined)).toBe(true);
  });

  it('drops the event at the bound and before it', () => {
    expect(isStrictlyAfter(8191, 8192)).toBe(false);
    expect(isStrictlyAfter(8192, 8192)).toBe(false);
    expect(isStrictlyAfter(8193, 8192)).toBe(true);
  });
});
