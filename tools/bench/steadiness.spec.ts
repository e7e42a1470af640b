import { steadyAgainstFirstMinute } from './steadiness';

describe('steadyAgainstFirstMinute', () => {
  it('given 30-s windows, when one later window dips more than 10 % below the first minute, then the run is not steady though its last window is', () => {
    const steadiness = steadyAgainstFirstMinute([29_433, 26_451, 25_436, 24_177, 28_695, 27_560], 30);

    expect(steadiness.firstMinute).toBeCloseTo(27_942, 0);
    expect(steadiness.last).toBeCloseTo(27_560 / 27_942 - 1, 4);
    expect(steadiness.farthest).toBeCloseTo(24_177 / 27_942 - 1, 4);
    expect(steadiness.within).toBe(false);
  });

  it('given every later window within 10 % of the first minute, when checked, then the run is steady and the farthest change is the largest in size', () => {
    const steadiness = steadyAgainstFirstMinute([100, 100, 95, 107, 92], 30);

    expect(steadiness.farthest).toBeCloseTo(-0.08, 6);
    expect(steadiness.within).toBe(true);
  });

  it('given windows longer than a minute, when checked, then the first window is the first minute', () => {
    expect(steadyAgainstFirstMinute([100, 89], 90)).toMatchObject({ firstMinute: 100, within: false });
    expect(steadyAgainstFirstMinute([100], 90)).toMatchObject({ firstMinute: 100, last: 0, farthest: 0, within: true });
  });

  it('given no windows, when checked, then it refuses', () => {
    expect(() => steadyAgainstFirstMinute([], 30)).toThrow(/at least one window/);
  });
});
