import type { RecordedEvent } from './event';
import type { Subscription, SubscriptionHandler } from './event-store.port';

/** Wakes waiting subscriptions when the log grows. */
export class LogSignal {
  private waiters: Array<() => void> = [];

  /** Resolves at the next `notify()`. */
  next(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

export interface LogSource {
  /** Events strictly after `after`, in order, at most `max`. */
  readAfter(after: number, max: number): Promise<readonly RecordedEvent[]> | readonly RecordedEvent[];
  /** Position of the last stored event. */
  head(): number;
  signal: LogSignal;
}

/**
 * A catch-up subscription over a local log: replays from `after`, then follows new events.
 * The handler is awaited, so a slow handler slows the subscription instead of buffering.
 */
export function subscribeToLog(source: LogSource, after: number, handler: SubscriptionHandler): Subscription {
  let stopped = false;
  let wake: (() => void) | undefined;
  let resolveCaughtUp!: () => void;
  let rejectCaughtUp!: (error: unknown) => void;
  const caughtUp = new Promise<void>((resolve, reject) => {
    resolveCaughtUp = resolve;
    rejectCaughtUp = reject;
  });
  // A subscription that fails before catching up reports it through `done`; avoid an unhandled rejection here.
  caughtUp.catch(() => undefined);
  const target = source.head();

  const run = async (): Promise<void> => {
    let position = after;
    let isCaughtUp = false;
    if (position >= target) {
      isCaughtUp = true;
      resolveCaughtUp();
    }
    while (!stopped) {
      const newData = source.signal.next();
      const batch = await source.readAfter(position, 512);
      for (const event of batch) {
        if (stopped) return;
        await handler(event);
        position = event.globalPosition;
        if (!isCaughtUp && position >= target) {
          isCaughtUp = true;
          resolveCaughtUp();
        }
      }
      if (batch.length === 0 && !stopped) {
        await Promise.race([newData, new Promise<void>((resolve) => (wake = resolve))]);
      }
    }
  };

  const done = run().then(
    () => resolveCaughtUp(),
    (error: unknown) => {
      rejectCaughtUp(error);
      throw error;
    },
  );
  done.catch(() => undefined);

  return {
    caughtUp,
    done,
    async stop() {
      stopped = true;
      wake?.();
      await done.catch(() => undefined);
    },
  };
}
