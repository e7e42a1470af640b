import { Flagsmith, type Flags } from 'flagsmith-nodejs';
import { pino } from 'pino';
import type { FlagValue } from './storefront.expectations';

/** A flagsmith-nodejs client against the app, quiet, failing fast instead of retrying. */
export function nodeClient(apiUrl: string, environmentKey: string, options: { local?: boolean; analytics?: boolean } = {}): Flagsmith {
  return new Flagsmith({
    environmentKey,
    apiUrl,
    enableLocalEvaluation: options.local === true,
    // A negative interval turns polling off: specs refresh the document explicitly.
    environmentRefreshIntervalSeconds: -1,
    enableAnalytics: options.analytics === true,
    retries: 0,
    requestTimeoutSeconds: 5,
    logger: pino({ level: 'silent' }),
  });
}

export interface SeenFlag {
  readonly enabled: boolean;
  readonly value: FlagValue;
}

/** A client's flags as plain `{name: {enabled, value}}`, with a missing value read as null. */
export function seenFlags(flags: Flags): Record<string, SeenFlag> {
  return Object.fromEntries(flags.allFlags().map((flag) => [flag.featureName, { enabled: flag.enabled, value: flag.value ?? null }]));
}

/** Reduces expected flags to what a client reports (`enabled`, `value`). */
export function asSeen(expected: Record<string, { enabled: boolean; value: FlagValue }>): Record<string, SeenFlag> {
  return Object.fromEntries(Object.entries(expected).map(([name, flag]) => [name, { enabled: flag.enabled, value: flag.value }]));
}

/** Runs `task` over `items` with at most `concurrency` in flight, keeping order. */
export async function mapConcurrently<T, R>(items: readonly T[], concurrency: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
