export {
  EmbeddedEventStore,
  EventLogCorruptedError,
  EventStoreClosedError,
  EventStoreFailedError,
  EVENT_LOG_FILE_NAME,
  LOG_INDEX_FILE_NAME,
  type EmbeddedEventStoreOptions,
  type EventStoreFootprint,
  type LogIndexProgress,
} from './lib/embedded-event-store';
export {
  DEFAULT_FOLLOWER_POLL_INTERVAL_MS,
  EmbeddedEventFollower,
  type EmbeddedEventFollowerOptions,
} from './lib/embedded-event-follower';
export { EventLogReplacedError, EventStoreReadOnlyError } from './lib/event-store.errors';
export { DirectoryLockedError } from './lib/directory-lock';
export { LogFileFormatError, type SyncData } from './lib/log-file';
export { checkEventPositions, scanLogPayloads, type LogScanOptions, type ScannedPayload } from './lib/log-scan';
export { LogTail, type LogTailStart } from './lib/log-tail';
export { payloadHead, RecordFormatError, RecordTooLargeError, recordedEventsOf, type PayloadHead } from './lib/record-codec';
export { CheckpointFormatError, FileCheckpointStore } from './lib/file-checkpoint.store';
export { syncDirectory, syncDirectorySync, writeNewFileDurably } from './lib/directory-sync';
export { StreamKeyFilter } from './lib/stream-key-filter';
