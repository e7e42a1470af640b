import type { RecordedEvent } from '@flagline/event-sourcing';
import { isSealedData, openEvent } from '@flagline/event-sealing';
import { SqliteSealingKeyStore } from '@flagline/key-store';
import { join } from 'node:path';

/** The sealing keys' file in the data directory (see "Erasure (GDPR)" in the README). */
export const KEYS_FILE = 'keys.sqlite';

export function openKeyStore(dataDir: string): SqliteSealingKeyStore {
  return SqliteSealingKeyStore.open(join(dataDir, KEYS_FILE));
}

/**
 * Opens events read straight from the log (the rebuild scans the log file itself): a sealed one
 * with its stream's key, read synchronously, or as erased when the key is gone, as the running
 * app's `SealingEventStore` reads them.
 */
export function eventOpener(keys: SqliteSealingKeyStore): (event: RecordedEvent) => RecordedEvent {
  return (event) => (isSealedData(event.data) ? openEvent(event, keys.getNow(event.streamName)) : event);
}
