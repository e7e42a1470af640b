import { randomUUID } from 'node:crypto';
import type { EventMetadata, JsonValue, RecordedEvent } from '../lib/event';
import type { BusHandler, EventBus } from '../lib/event-bus.port';

export interface EventBusHarness {
  readonly bus: EventBus;
  /**
   * Opens another client of the same bus, as a relay in another process holds one. Absent for a
   * bus that lives inside one process; tests then publish on `bus`.
   */
  openPublisher?(): Promise<EventBus>;
  /** Closes the bus (and any opened publisher) and removes what the adapter created. */
  dispose(): Promise<void>;
}

export interface EventBusContractOptions {
  /** How long a delivery may take; a broker needs seconds for a consumer group to form. */
  readonly deliveryTimeoutMs?: number;
  /** How long to watch for deliveries that must not happen. */
  readonly quietPeriodMs?: number;
}

let position = 0;

/**
 * A recorded event for bus tests: unique id, increasing global position, project `project-1`.
 * A metadata override of `undefined` removes that field (`{ projectId: undefined }`).
 */
export function aRecordedEvent(
  overrides: Partial<Omit<RecordedEvent, 'metadata' | 'data'>> & { readonly data?: JsonValue; readonly metadata?: Partial<EventMetadata> } = {},
): RecordedEvent {
  position += 1;
  const { metadata, ...rest } = overrides;
  const merged: Partial<EventMetadata> = {
    actor: { kind: 'user', id: 'user-1', name: 'ada@example.com' },
    occurredAt: '2026-01-01T00:00:00.000Z',
    correlationId: 'corr-1',
    projectId: 'project-1',
    ...metadata,
  };
  return {
    id: randomUUID(),
    type: 'ThingHappened',
    data: { n: position },
    streamName: 'thing-1',
    streamRevision: 0,
    globalPosition: position,
    recordedAt: '2026-01-01T00:00:01.000Z',
    ...rest,
    metadata: Object.fromEntries(Object.entries(merged).filter(([, value]) => value !== undefined)) as unknown as EventMetadata,
  };
}

/** The unit of ordering on a bus: the project, or the stream for events outside any project. */
export function orderingKeyOf(event: RecordedEvent): string {
  return event.metadata.projectId ?? event.streamName;
}

/**
 * Events of several projects and project-less streams, interleaved the way the log interleaves
 * them, with stream revisions counting up per stream.
 */
function interleaved(keys: readonly { projectId?: string; streamName: string }[], perKey: number): RecordedEvent[] {
  const events: RecordedEvent[] = [];
  for (let revision = 0; revision < perKey; revision++) {
    for (const { projectId, streamName } of keys) {
      events.push(aRecordedEvent({ streamName, streamRevision: revision, metadata: { projectId } }));
    }
  }
  return events;
}

function inBatches<T>(items: readonly T[], size: number): T[][] {
  const batches: T[][] = [];
  for (let i = 0; i < items.length; i += size) batches.push(items.slice(i, i + size));
  return batches;
}

/** Publishes as the relay does: a rejected publish is retried with the same batch. */
async function publishAccepted(bus: EventBus, events: readonly RecordedEvent[], attempts = 5): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await bus.publish(events);
      return;
    } catch (error) {
      if (attempt >= attempts) throw error;
    }
  }
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** What one group's handler saw: completed handlings in order, and overlapping calls per key. */
class Deliveries {
  readonly handled: RecordedEvent[] = [];
  readonly attempts = new Map<string, number>();
  readonly overlaps: string[] = [];
  private readonly inFlight = new Set<string>();

  constructor(private readonly failFirstAttemptOf: ReadonlySet<string> = new Set()) {}

  readonly handler: BusHandler = async (event) => {
    const key = orderingKeyOf(event);
    if (this.inFlight.has(key)) this.overlaps.push(event.id);
    this.inFlight.add(key);
    try {
      const attempt = (this.attempts.get(event.id) ?? 0) + 1;
      this.attempts.set(event.id, attempt);
      // Yields, so a bus that ran one key's handlers concurrently would show an overlap.
      await pause(1);
      if (attempt === 1 && this.failFirstAttemptOf.has(event.id)) throw new Error(`handler failed on ${event.id}`);
      this.handled.push(event);
    } finally {
      this.inFlight.delete(key);
    }
  };

  /** Handled ids in first-handled order, duplicates dropped. */
  firstHandledIds(): string[] {
    return [...new Set(this.handled.map((event) => event.id))];
  }

  async waitForAll(events: readonly RecordedEvent[], timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const seen = new Set(this.handled.map((event) => event.id));
      const missing = events.filter((event) => !seen.has(event.id));
      if (missing.length === 0) return;
      if (Date.now() > deadline) throw new Error(`${missing.length} of ${events.length} events not handled within ${timeoutMs} ms`);
      await pause(20);
    }
  }
}

/** Per ordering key, the ids in the order they were published. */
function idsByKey(events: readonly RecordedEvent[]): Map<string, string[]> {
  const byKey = new Map<string, string[]>();
  for (const event of events) byKey.set(orderingKeyOf(event), [...(byKey.get(orderingKeyOf(event)) ?? []), event.id]);
  return byKey;
}

function expectOrderPerKey(published: readonly RecordedEvent[], deliveries: Deliveries): void {
  const byId = new Map(published.map((event) => [event.id, event]));
  const handledInOrder = deliveries.firstHandledIds().map((id) => byId.get(id)).filter((event): event is RecordedEvent => event !== undefined);
  expect(idsByKey(handledInOrder)).toEqual(idsByKey(published));
}

/**
 * Behaviour every event bus must show: the in-process bus (standalone) and Kafka run it.
 * Groups are unique per test and harnesses isolate topics, so a shared broker works too.
 *
 * Load sharing between consumers of one group and what happens to events published while a
 * group has no consumer differ by design between adapters: their own specs cover those.
 */
export function describeEventBusContract(adapterName: string, factory: () => Promise<EventBusHarness>, options: EventBusContractOptions = {}): void {
  const deliveryTimeoutMs = options.deliveryTimeoutMs ?? 2000;
  const quietPeriodMs = options.quietPeriodMs ?? 200;

  describe(`EventBus contract: ${adapterName}`, () => {
    let harness: EventBusHarness;
    let bus: EventBus;
    const group = (): string => `group-${randomUUID().slice(0, 8)}`;

    beforeEach(async () => {
      harness = await factory();
      bus = harness.bus;
    });
    afterEach(async () => {
      await harness.dispose();
    });

    it('delivers every event to a subscribed group once, in order per project, one at a time per project', async () => {
      const deliveries = new Deliveries();
      await bus.subscribe(group(), deliveries.handler);
      const events = interleaved(
        [
          { projectId: 'project-a', streamName: 'feature-1' },
          { projectId: 'project-b', streamName: 'feature-2' },
          { projectId: 'project-a', streamName: 'segment-3' },
          { projectId: 'project-c', streamName: 'environment-4' },
        ],
        8,
      );
      for (const batch of inBatches(events, 7)) await bus.publish(batch);
      await deliveries.waitForAll(events, deliveryTimeoutMs);
      await pause(quietPeriodMs);

      expect(deliveries.handled).toHaveLength(events.length);
      expectOrderPerKey(events, deliveries);
      expect(deliveries.overlaps).toEqual([]);
    });

    it('keys events without a project by their stream, keeping each stream in order', async () => {
      const deliveries = new Deliveries();
      await bus.subscribe(group(), deliveries.handler);
      const events = interleaved(
        [
          { streamName: 'organisation-1' },
          { streamName: 'user-2' },
          { projectId: 'project-a', streamName: 'feature-3' },
        ],
        6,
      );
      for (const batch of inBatches(events, 4)) await bus.publish(batch);
      await deliveries.waitForAll(events, deliveryTimeoutMs);

      expectOrderPerKey(events, deliveries);
      expect(deliveries.overlaps).toEqual([]);
    });

    it('gives each group every event', async () => {
      const projectors = new Deliveries();
      const audit = new Deliveries();
      await bus.subscribe(group(), projectors.handler);
      await bus.subscribe(group(), audit.handler);
      const events = interleaved(
        [
          { projectId: 'project-a', streamName: 'feature-1' },
          { projectId: 'project-b', streamName: 'feature-2' },
        ],
        5,
      );
      await bus.publish(events);
      await Promise.all([projectors.waitForAll(events, deliveryTimeoutMs), audit.waitForAll(events, deliveryTimeoutMs)]);
      await pause(quietPeriodMs);

      for (const deliveries of [projectors, audit]) {
        expect(deliveries.handled).toHaveLength(events.length);
        expectOrderPerKey(events, deliveries);
      }
    });

    it('keeps every field of an event exactly', async () => {
      const deliveries = new Deliveries();
      await bus.subscribe(group(), deliveries.handler);
      const event = aRecordedEvent({
        type: 'FeatureCreated',
        streamName: 'feature-42',
        streamRevision: 3,
        data: { name: 'zoë 🚀', nested: { list: [1, 'two', true, null], n: -1.5 }, empty: {} },
        metadata: {
          actor: { kind: 'organisation-key', id: 'key-1' },
          correlationId: 'corr-42',
          causationId: 'cause-42',
          organisationId: 'organisation-7',
          projectId: 'project-9',
        },
      });
      await bus.publish([event]);
      await deliveries.waitForAll([event], deliveryTimeoutMs);

      expect(deliveries.handled[0]).toEqual(event);
    });

    it('redelivers an event whose handler failed instead of losing it, keeping the order', async () => {
      const events = interleaved(
        [
          { projectId: 'project-a', streamName: 'feature-1' },
          { projectId: 'project-b', streamName: 'feature-2' },
        ],
        4,
      );
      const failing = events[3] as RecordedEvent;
      const deliveries = new Deliveries(new Set([failing.id]));
      await bus.subscribe(group(), deliveries.handler);
      await publishAccepted(bus, events);
      await deliveries.waitForAll(events, deliveryTimeoutMs);

      expect(deliveries.attempts.get(failing.id)).toBeGreaterThanOrEqual(2);
      expectOrderPerKey(events, deliveries);
    });

    it('resolves a publish only once the bus accepted it: the events outlive the publishing client', async () => {
      const deliveries = new Deliveries();
      await bus.subscribe(group(), deliveries.handler);
      const publisher = harness.openPublisher ? await harness.openPublisher() : bus;
      const events = interleaved([{ projectId: 'project-a', streamName: 'feature-1' }], 10);
      await publisher.publish(events);
      if (publisher !== bus) await publisher.close();
      await deliveries.waitForAll(events, deliveryTimeoutMs);

      expectOrderPerKey(events, deliveries);
    });

    it('delivers nothing more to a stopped subscription', async () => {
      const deliveries = new Deliveries();
      const subscription = await bus.subscribe(group(), deliveries.handler);
      const first = interleaved([{ projectId: 'project-a', streamName: 'feature-1' }], 3);
      await bus.publish(first);
      await deliveries.waitForAll(first, deliveryTimeoutMs);
      await subscription.stop();

      await bus.publish(interleaved([{ projectId: 'project-a', streamName: 'feature-1' }], 3));
      await pause(quietPeriodMs);

      expect(deliveries.firstHandledIds()).toEqual(first.map((event) => event.id));
    });

    it('accepts an empty publish', async () => {
      await expect(bus.publish([])).resolves.toBeUndefined();
    });
  });
}
