/** How a run's throughput held against its first minute (issue 18: within 10 % over 5 minutes). */
export interface Steadiness {
  /** The first minute's rate: the mean of the windows that end within its first 60 s (the first window when that is longer). */
  readonly firstMinute: number;
  /** The last window's rate against it, as a fraction (-0.05 is 5 % lower). */
  readonly last: number;
  /** The change farthest from zero among the windows after the first minute (all windows when the run is no longer). */
  readonly farthest: number;
  /** Every one of those windows is within `tolerance` of the first minute. */
  readonly within: boolean;
}

export function steadyAgainstFirstMinute(rates: readonly number[], windowSeconds: number, tolerance = 0.1): Steadiness {
  if (rates.length === 0 || !(windowSeconds > 0)) throw new Error('steadiness needs at least one window of a positive length');
  const inFirstMinute = Math.max(1, Math.floor(60 / windowSeconds));
  const first = rates.slice(0, inFirstMinute);
  const firstMinute = first.reduce((sum, rate) => sum + rate, 0) / first.length;
  const later = rates.length > inFirstMinute ? rates.slice(inFirstMinute) : rates;
  const changes = later.map((rate) => rate / firstMinute - 1);
  const farthest = changes.reduce((far, change) => (Math.abs(change) > Math.abs(far) ? change : far), 0);
  return { firstMinute, last: (rates[rates.length - 1] as number) / firstMinute - 1, farthest, within: Math.abs(farthest) <= tolerance };
}
