export { KAFKA_RECONNECT_RETRY, KafkaEventBus, type KafkaEventBusOptions } from './lib/kafka-event-bus';
export { checkKafkaReachable } from './lib/kafka-reachability';
export {
  EVENT_MESSAGE_TYPE,
  EVENT_SCHEMA_VERSION,
  EnvelopeDecodeError,
  decodeEventEnvelope,
  encodeEventEnvelope,
  messageKeyOf,
  type EnvelopeDecodeFailure,
  type EventEnvelopeV1,
} from './lib/event-envelope.codec';
export { DEAD_LETTER_HEADER, readDeadLetter, type DeadLetter, type DeadLetterReason } from './lib/dead-letter.codec';
export type { HandlerRetryOptions } from './lib/handler-retry.policy';
export { ConsumerLagTracker, KafkaAdminSession, trackConsumerLag, withDeadline, type Membership, type PartitionLag } from './lib/consumer-lag';
export { KafkaSessionTimeoutError, type BusBatchHandler, type KafkaBatchHandling, type KafkaRecovery } from './lib/kafka-group-consumer';
