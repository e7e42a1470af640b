import type { RecordedEvent } from './event';

export type BusHandler = (event: RecordedEvent) => Promise<void> | void;

export interface BusSubscription {
  stop(): Promise<void>;
}

/**
 * Carries committed events from the relay to consumers (projectors). Adapters: in-process
 * (standalone) and Kafka (distributed). Delivery is at least once and in order per project;
 * consumers make duplicates harmless.
 */
export interface EventBus {
  /** Resolves once the bus has durably accepted every event. */
  publish(events: readonly RecordedEvent[]): Promise<void>;
  /** Consumers sharing a group share the work; each group sees every event. */
  subscribe(group: string, handler: BusHandler): Promise<BusSubscription>;
  close(): Promise<void>;
}

/** Where consumers keep their progress. Adapters: in-memory, file (embedded), Redis. */
export interface CheckpointStore {
  load(name: string): Promise<number>;
  save(name: string, position: number): Promise<void>;
}
