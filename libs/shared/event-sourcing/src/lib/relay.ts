import type { RecordedEvent } from './event';
import type { CheckpointStore, EventBus } from './event-bus.port';
import type { EventStore, Subscription } from './event-store.port';
import { ProgressTracker } from './progress-tracker';

export interface RelayOptions {
  readonly name?: string;
  /** Events published per bus call while catching up. */
  readonly batchSize?: number;
  /** Skips events the bus should not carry (e.g. the id sequence). */
  readonly filter?: (event: RecordedEvent) => boolean;
  readonly onError?: (error: unknown) => void;
  readonly retryDelayMs?: number;
}

/**
 * Moves committed events from the store to the bus, in log order. The checkpoint advances
 * only after the bus acknowledged, so after a crash the relay resumes without losing an
 * event; what it re-publishes is a duplicate that consumers ignore.
 */
export class Relay {
  readonly progress = new ProgressTracker();
  private subscription: Subscription | null = null;
  private stopped = false;
  private pending: RecordedEvent[] = [];
  private live = false;
  private flushing: Promise<void> = Promise.resolve();
  private flushScheduled = false;
  private readonly name: string;

  constructor(
    private readonly store: EventStore,
    private readonly bus: EventBus,
    private readonly checkpoints: CheckpointStore,
    private readonly options: RelayOptions = {},
  ) {
    this.name = options.name ?? 'relay';
  }

  async start(): Promise<void> {
    this.stopped = false;
    const after = await this.checkpoints.load(this.name);
    this.progress.advance(after);
    this.run(after);
  }

  private run(after: number): void {
    if (this.stopped) return;
    this.live = false;
    const subscription = this.store.subscribeToAll({ after }, (event) => this.onEvent(event));
    this.subscription = subscription;
    subscription.caughtUp
      .then(() => {
        // Once live, events are published as they come, for the shortest propagation time.
        this.live = true;
        return this.flush();
      })
      .catch((error: unknown) => this.restart(error, subscription));
    subscription.done.catch((error: unknown) => this.restart(error, subscription));
  }

  /** After any failure, start again from the last position the bus acknowledged. */
  private restart(error: unknown, subscription: Subscription): void {
    if (this.stopped || this.subscription !== subscription) return;
    this.subscription = null;
    this.options.onError?.(error);
    void subscription.stop().finally(() => {
      this.pending = [];
      setTimeout(() => this.run(this.progress.position), this.options.retryDelayMs ?? 500).unref();
    });
  }

  private onEvent(event: RecordedEvent): Promise<void> | undefined {
    // Events the bus should not carry still queue with the rest: they are dropped at publish
    // time, so the checkpoint passes them only once everything before them was acknowledged.
    this.pending.push(event);
    // A full batch waits for the bus: the subscription slows down instead of queueing without bound.
    if (this.pending.length >= (this.options.batchSize ?? 100)) return this.flush();
    // Live, the events handed over in one turn of the event loop (a commit group, usually) leave
    // together right after it: one bus call, one checkpoint and one wake-up of the waiters for
    // all of them, instead of one per event.
    if (this.live && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        // A restart in between dropped what was pending and reads it again; nothing to do here then.
        const subscription = this.subscription;
        if (this.stopped || !subscription) return;
        this.flush().catch((error: unknown) => this.restart(error, subscription));
      });
    }
    return undefined;
  }

  /** Publishes what is pending; calls are serialised so batches leave in log order. */
  private flush(): Promise<void> {
    const next = this.flushing.then(async () => {
      if (this.pending.length === 0) return;
      const batch = this.pending;
      this.pending = [];
      const filter = this.options.filter;
      const publishable = filter ? batch.filter((event) => filter(event)) : batch;
      try {
        if (publishable.length > 0) await this.bus.publish(publishable);
      } catch (error) {
        // Unacknowledged events go back to the front, so a retry keeps log order.
        this.pending = [...batch, ...this.pending];
        throw error;
      }
      await this.advance((batch[batch.length - 1] as RecordedEvent).globalPosition);
    });
    this.flushing = next.catch(() => undefined);
    return next;
  }

  private async advance(position: number): Promise<void> {
    await this.checkpoints.save(this.name, position);
    this.progress.advance(position);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.subscription?.stop();
  }
}
