import type { EventStore } from '@flagline/event-sourcing';

/** A point of the log: an event's global position and when it was recorded. */
export interface LogPoint {
  readonly position: number;
  readonly time: string;
}

interface Sample extends LogPoint {
  readonly ms: number;
}

/**
 * Times of the log for stores whose positions are not numbered one per event (EventStoreDB's
 * `$all` commit positions are byte offsets, and a read may only start at an event): every
 * `every`-th event's position and time, kept in memory from one scan of the log, extended by
 * reading only what was appended since. A lookup finds the last sample at or before what it
 * looks for, then reads at most `every` events after it, starting at that sample's event.
 */
export class LogTimeline {
  private readonly samples: Sample[] = [];
  private scanned = 0;
  private seen = 0;
  private scanning: Promise<void> | null = null;

  constructor(
    private readonly store: Pick<EventStore, 'readAll'>,
    private readonly every = 256,
  ) {}

  get size(): number {
    return this.samples.length;
  }

  /** The last event recorded at or before `time` (ms since the epoch); undefined before the first event. */
  async lastAtOrBefore(time: number, head: number): Promise<LogPoint | undefined> {
    await this.catchUp(head);
    return this.refine(this.lastSample((sample) => sample.ms <= time), (point) => Date.parse(point.time) <= time);
  }

  /** The last event at or before `position`; undefined before the first event. */
  async atOrBefore(position: number, head: number): Promise<LogPoint | undefined> {
    await this.catchUp(head);
    return this.refine(this.lastSample((sample) => sample.position <= position), (point) => point.position <= position);
  }

  private lastSample(fits: (sample: Sample) => boolean): Sample | undefined {
    let low = 0;
    let high = this.samples.length - 1;
    let found: Sample | undefined;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const sample = this.samples[middle] as Sample;
      if (fits(sample)) {
        found = sample;
        low = middle + 1;
      } else high = middle - 1;
    }
    return found;
  }

  /** From a sample, the last of the events after it (up to the next sample) that still fits. */
  private async refine(sample: Sample | undefined, fits: (point: LogPoint) => boolean): Promise<LogPoint | undefined> {
    if (!sample) return undefined;
    let found: LogPoint = sample;
    for (const event of await this.store.readAll({ after: sample.position, maxCount: this.every })) {
      const point = { position: event.globalPosition, time: event.recordedAt };
      if (!fits(point)) break;
      found = point;
    }
    return found;
  }

  /** Reads the log from where the last scan stopped up to `head` (one scan at a time). */
  private async catchUp(head: number): Promise<void> {
    while (this.scanned < head) {
      this.scanning ??= this.scan().finally(() => (this.scanning = null));
      await this.scanning;
    }
  }

  private async scan(): Promise<void> {
    for (;;) {
      const page = await this.store.readAll({ ...(this.scanned > 0 ? { after: this.scanned } : {}), maxCount: 10_000 });
      for (const event of page) {
        if (this.seen % this.every === 0) {
          // recordedAt never goes back along a log; a clock that did is clamped, so the samples stay sorted by time.
          const ms = Math.max(Date.parse(event.recordedAt), this.samples.at(-1)?.ms ?? Number.NEGATIVE_INFINITY);
          this.samples.push({ position: event.globalPosition, time: event.recordedAt, ms });
        }
        this.seen++;
        this.scanned = event.globalPosition;
      }
      if (page.length < 10_000) return;
    }
  }
}
