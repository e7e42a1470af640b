import type { RecordedEvent } from './event';
import type { EventStore, Subscription } from './event-store.port';
import { ProgressTracker } from './progress-tracker';

export interface LogFollowerOptions {
  readonly after?: number;
  readonly retryDelayMs?: number;
  readonly onError?: (error: unknown) => void;
}

/**
 * Applies the whole log to an in-memory consumer (the admin catalog) and keeps following it:
 * when the subscription fails (a dropped connection to the store), it resubscribes after the
 * last applied position, so nothing is missed or applied twice.
 */
export class LogFollower {
  readonly progress = new ProgressTracker();
  private subscription: Subscription | null = null;
  private stopped = false;
  private firstCatchUp: Promise<void> | null = null;

  constructor(
    private readonly store: EventStore,
    private readonly apply: (event: RecordedEvent) => void | Promise<void>,
    private readonly options: LogFollowerOptions = {},
  ) {
    this.progress.advance(options.after ?? 0);
  }

  /** Starts following; resolves once the log as it was at start has been applied (across resubscriptions). */
  start(): Promise<void> {
    this.firstCatchUp ??= this.store.headPosition().then((head) => {
      this.subscribe();
      return this.progress.waitFor(head);
    });
    return this.firstCatchUp;
  }

  private subscribe(): void {
    const subscription = this.store.subscribeToAll({ after: this.progress.position }, async (event) => {
      await this.apply(event);
      this.progress.advance(event.globalPosition);
    });
    this.subscription = subscription;
    subscription.done.catch((error: unknown) => {
      if (this.stopped || this.subscription !== subscription) return;
      this.options.onError?.(error);
      setTimeout(() => {
        if (!this.stopped) this.subscribe();
      }, this.options.retryDelayMs ?? 500).unref();
    });
    subscription.caughtUp.catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.subscription?.stop();
  }
}
