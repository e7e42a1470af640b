import { ANY, NO_STREAM, STREAM_EXISTS } from '@kurrent/kurrentdb-client';
import { toStreamState } from './expected-revision.mapping';

describe('toStreamState', () => {
  it.each([
    ['any', ANY],
    ['no_stream', NO_STREAM],
    ['stream_exists', STREAM_EXISTS],
  ] as const)('maps %s to the client constant', (expected, state) => {
    expect(toStreamState(expected)).toBe(state);
  });

  it('maps a concrete revision to a bigint revision', () => {
    expect(toStreamState(0)).toBe(0n);
    expect(toStreamState(41)).toBe(41n);
    expect(toStreamState(Number.MAX_SAFE_INTEGER)).toBe(BigInt(Number.MAX_SAFE_INTEGER));
  });

  // The server reads -1 as "no stream" and -2 as "any": passing them on would weaken the check.
  it.each([-1, -2, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53])('refuses %p as a revision', (revision) => {
    expect(() => toStreamState(revision)).toThrow(RangeError);
  });
});
