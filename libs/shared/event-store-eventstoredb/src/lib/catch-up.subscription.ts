import type { AllStreamResolvedEvent } from '@kurrent/kurrentdb-client';
import type { Subscription, SubscriptionHandler } from '@flagline/event-sourcing';
import type { CatchUpSubscriptionStream } from './eventstoredb-client.types';
import { isStrictlyAfter, toGlobalPosition } from './position.mapping';
import { toRecordedEvent } from './recorded-event.mapping';
import { isSystemEvent } from './system-event.filter';

/** The server closed a `$all` subscription that was not stopped. */
export class SubscriptionEndedError extends Error {
  override readonly name = 'SubscriptionEndedError';
  constructor() {
    super('EventStoreDB ended the $all subscription');
  }
}

export interface CatchUpSubscriptionOptions {
  /** The client's subscription, already started at the position for `after`. */
  readonly stream: CatchUpSubscriptionStream;
  /** Deliver only events strictly after this global position. */
  readonly after: number | undefined;
  readonly handler: SubscriptionHandler;
  /**
   * Global position of the last stored event, read when the subscription started. Reaching it
   * also counts as caught up: servers before 23.10 never send `caughtUp`.
   */
  readonly head: Promise<number>;
}

// The client keeps pushing while the handler works; past this many waiting events the stream is
// paused, so gRPC flow control holds the rest on the server instead of in memory.
const HIGH_WATER = 64;
const LOW_WATER = 16;

/**
 * Feeds a client `$all` subscription to a port handler, one event at a time.
 *
 * The client emits `caughtUp` as soon as the server's signal passes through it, while events
 * before it may still wait in the stream's buffer or in this queue. So the signal is recorded as
 * a count (events taken from the stream so far plus those still buffered), and `caughtUp`
 * settles once that many have been handled.
 */
export function followCatchUpSubscription({ stream, after, handler, head }: CatchUpSubscriptionOptions): Subscription {
  const queue: AllStreamResolvedEvent[] = [];
  let received = 0;
  let processed = 0;
  let caughtUpAfterCount: number | null = null;
  let headPosition: number | null = null;
  // Positions only grow along $all, so one watermark both honours `after` and drops repeats.
  let lastPosition = after;
  let stopped = false;
  let failure: { readonly error: unknown } | null = null;
  let wake: (() => void) | null = null;

  let resolveCaughtUp!: () => void;
  let rejectCaughtUp!: (error: unknown) => void;
  const caughtUp = new Promise<void>((resolve, reject) => {
    resolveCaughtUp = resolve;
    rejectCaughtUp = reject;
  });
  // A subscription failing before it catches up reports that through `done` as well.
  caughtUp.catch(() => undefined);

  const signal = (): void => {
    const waiting = wake;
    wake = null;
    waiting?.();
  };
  const fail = (error: unknown): void => {
    failure ??= { error };
    signal();
  };
  const checkCaughtUp = (): void => {
    const bySignal = caughtUpAfterCount !== null && processed >= caughtUpAfterCount;
    const byHead = headPosition !== null && (lastPosition ?? 0) >= headPosition;
    if (bySignal || byHead) resolveCaughtUp();
  };

  stream.on('data', (resolved) => {
    received++;
    queue.push(resolved);
    if (queue.length >= HIGH_WATER) stream.pause();
    signal();
  });
  stream.on('caughtUp', () => {
    if (caughtUpAfterCount !== null) return;
    caughtUpAfterCount = received + stream.readableLength;
    checkCaughtUp();
  });
  stream.on('error', fail);
  stream.on('end', () => {
    if (!stopped) fail(new SubscriptionEndedError());
  });
  head.then(
    (position) => {
      headPosition = position;
      checkCaughtUp();
    },
    // Without the head, the server's caughtUp signal still settles `caughtUp`.
    () => undefined,
  );

  const deliver = async (resolved: AllStreamResolvedEvent): Promise<void> => {
    const event = resolved.event;
    // System events are skipped before their position is looked at: only ours must be mappable.
    if (!event || isSystemEvent(event)) return;
    const position = toGlobalPosition(event.position);
    if (!isStrictlyAfter(position, lastPosition)) return;
    const recorded = toRecordedEvent(event);
    await handler(recorded);
    lastPosition = position;
  };

  const run = async (): Promise<void> => {
    try {
      for (;;) {
        if (stopped) return;
        if (failure) throw failure.error;
        const resolved = queue.shift();
        if (resolved === undefined) {
          if (stream.isPaused()) stream.resume();
          await new Promise<void>((resolve) => (wake = resolve));
          continue;
        }
        if (queue.length < LOW_WATER && stream.isPaused()) stream.resume();
        await deliver(resolved);
        processed++;
        checkCaughtUp();
      }
    } finally {
      await stream.unsubscribe().catch(() => undefined);
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
      signal();
      await done.catch(() => undefined);
    },
  };
}
