import { identityIdsWith, type IdentityIds } from '@flagline/admin-domain';
import type { EventStore, RecordedEvent } from '@flagline/event-sourcing';
import { writeNewFileDurably } from '@flagline/event-store-embedded';
import { isSealedData, openEvent } from '@flagline/event-sealing';
import { SqliteSealingKeyStore } from '@flagline/key-store';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
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

/** How the data directory derives identity ids, recorded at its first start (see "Erasure (GDPR)" in the README). */
export const IDENTITY_IDS_FILE = 'identity-id-key';

/**
 * The data directory's identity ids: keyed with its secret (`hmac-sha256:<key>` in
 * `identity-id-key`, made at the first start of an empty directory), or unkeyed (`sha256`, recorded
 * at the first start of this version on a log that already holds events: its identities' streams
 * are named with the unkeyed digest, and must still be found). Read before anything is appended.
 */
export async function identityIdsOf(dataDir: string, log: Pick<EventStore, 'headPosition'>): Promise<IdentityIds> {
  const path = join(dataDir, IDENTITY_IDS_FILE);
  let recorded: string;
  try {
    recorded = (await readFile(path, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    recorded = (await log.headPosition()) > 0 ? 'sha256' : `hmac-sha256:${randomBytes(32).toString('base64')}`;
    // Durable before any identity is stored under it: without it the keyed streams cannot be found.
    writeNewFileDurably(path, `${recorded}\n`);
  }
  if (recorded === 'sha256') return identityIdsWith(null);
  const key = /^hmac-sha256:([A-Za-z0-9+/]{43}=)$/.exec(recorded)?.[1];
  if (key === undefined) throw new Error(`${path} holds no identity id derivation ("sha256" or "hmac-sha256:<32 bytes in base64>")`);
  return identityIdsWith(Buffer.from(key, 'base64'));
}
