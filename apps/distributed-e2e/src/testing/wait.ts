export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls `probe` until it returns a value other than undefined, and returns that value with the
 * time it took. On timeout the error names what was awaited and the last thing the probe saw
 * (`describe`), so a failed wait says why.
 */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  options: { readonly timeoutMs: number; readonly intervalMs?: number; readonly describe?: () => string },
): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return { value, ms: Date.now() - started };
      lastError = undefined;
    } catch (error: unknown) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const seen = options.describe?.() ?? '';
      const failure = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
      throw new Error(`Timed out after ${options.timeoutMs} ms waiting for ${what}${failure}${seen ? `\nLast seen: ${seen}` : ''}`);
    }
    await sleep(options.intervalMs ?? 100);
  }
}

/** A small seeded generator (mulberry32), so a run's random choices can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed of this run: FLAGLINE_E2E_SEED to replay one, otherwise a fresh one (printed by the tests). */
export function runSeed(): number {
  const configured = Number(process.env['FLAGLINE_E2E_SEED']);
  return Number.isSafeInteger(configured) && configured > 0 ? configured : Math.floor(Math.random() * 2 ** 31) + 1;
}
