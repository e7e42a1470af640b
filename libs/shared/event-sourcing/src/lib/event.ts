/** A JSON-safe value: what events, read models and messages may carry. */
export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };

/** Who caused a change. Every stored event names its actor. */
export interface Actor {
  readonly kind: 'user' | 'organisation-key' | 'environment-key' | 'system';
  readonly id: string;
  /** Display name at the time of the change (email, key name, ...). */
  readonly name?: string;
}

/** Metadata stored with every event; it never drives decisions. */
export interface EventMetadata {
  readonly actor: Actor;
  readonly occurredAt: string;
  readonly correlationId: string;
  readonly causationId?: string;
  /** Routing facts: the relay keys messages by project, audit filters by organisation. */
  readonly organisationId?: string;
  readonly projectId?: string;
}

/** A domain event as deciders produce and evolve functions consume it. */
export interface DomainEvent<Type extends string = string, Data = unknown> {
  readonly type: Type;
  readonly data: Data;
}

/** An event on its way into the store. */
export interface NewEvent {
  readonly id: string;
  readonly type: string;
  readonly data: JsonValue;
  readonly metadata: EventMetadata;
}

/**
 * An event as the store returns it: with its place in its stream and in the whole log.
 * Distributes over a union of events, so switching on `type` narrows `data`.
 */
export type RecordedEvent<E extends DomainEvent = DomainEvent> = E extends DomainEvent ? RecordedEventOf<E> : never;

export interface RecordedEventOf<E extends DomainEvent> {
  readonly id: string;
  readonly type: E['type'];
  readonly data: E['data'];
  readonly metadata: EventMetadata;
  readonly streamName: string;
  /** 0-based position of the event inside its stream. */
  readonly streamRevision: number;
  /** Position in the global log: strictly increasing, not necessarily dense. */
  readonly globalPosition: number;
  /** When the store committed the event (ISO-8601). */
  readonly recordedAt: string;
}
