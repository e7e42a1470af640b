export interface HandlerRetryOptions {
  /** Handler attempts per message before it goes to the dead-letter topic; default 5. */
  readonly attempts?: number;
  /** Delay after the first failure, doubled after each further one; default 200 ms. */
  readonly initialDelayMs?: number;
  /** Upper bound of the delay; default 5000 ms. */
  readonly maxDelayMs?: number;
  /**
   * Errors that say the handler's own dependencies are away (Redis down, say) rather than that
   * the message is bad. They are retried without limit, holding the partition back: sending an
   * event to the dead-letter topic because a store was briefly unreachable would leave a hole
   * in the read model.
   */
  readonly isTransient?: (error: unknown) => boolean;
  /** Told of each failure that will be retried (after `delayMs`), e.g. to count retries. */
  readonly onRetry?: (attempt: number, error: unknown, delayMs: number) => void;
}

/** What to do after a handler's `attempt`-th failure (1-based). */
export type RetryDecision = { readonly retry: true; readonly delayMs: number } | { readonly retry: false };

export function decideRetry(attempt: number, error: unknown, options: HandlerRetryOptions = {}): RetryDecision {
  const initial = options.initialDelayMs ?? 200;
  const max = options.maxDelayMs ?? 5000;
  const delayMs = Math.min(max, initial * 2 ** Math.min(attempt - 1, 30));
  const retry = options.isTransient?.(error) === true || attempt < (options.attempts ?? 5);
  if (retry) options.onRetry?.(attempt, error, delayMs);
  return retry ? { retry: true, delayMs } : { retry: false };
}
