import { toSafeNumber } from './bigint.conversion';

describe('toSafeNumber', () => {
  it('converts values up to 2^53 - 1 exactly', () => {
    expect(toSafeNumber(0n, 'x')).toBe(0);
    expect(toSafeNumber(123_456_789n, 'x')).toBe(123_456_789);
    expect(toSafeNumber(BigInt(Number.MAX_SAFE_INTEGER), 'x')).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('throws instead of rounding beyond 2^53 - 1', () => {
    expect(() => toSafeNumber(2n ** 53n, 'Log position')).toThrow('Log position 9007199254740992 is not a safe JS integer');
    expect(() => toSafeNumber(2n ** 64n - 1n, 'Log position')).toThrow(RangeError);
    expect(() => toSafeNumber(-(2n ** 53n), 'Log position')).toThrow(RangeError);
  });
});
