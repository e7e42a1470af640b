export { EventStoreDbEventStore, EventStoreDbClosedError, type EventStoreDbEventStoreOptions } from './lib/eventstoredb-event-store';
export type { EventStoreDbClient, CatchUpSubscriptionStream } from './lib/eventstoredb-client.types';
export { SubscriptionEndedError } from './lib/catch-up.subscription';
export { UnsupportedPositionError } from './lib/position.mapping';
export { UnsupportedRecordedEventError } from './lib/recorded-event.mapping';
export { eventStoreConnectionStringProblem } from './lib/connection-string';
