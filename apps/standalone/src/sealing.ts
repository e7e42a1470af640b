import { identityIdsWith, type IdentityIds } from '@flagline/admin-domain';
import type { EventStore, RecordedEvent } from '@flagline/event-sourcing';
import { writeNewFileDurably } from '@flagline/event-store-embedded';
import type { SealingKey } from '@flagline/event-sealing';
import { SqliteSealingKeyStore } from '@flagline/key-store';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The sealing keys' file in the data directory (see "Erasure (GDPR)" in the README). */
export const KEYS_FILE = 'keys.sqlite';

/** `ownerFilter: false` for a reader that writes no key (the rebuild): see `SqliteSealingKeyStore.open`. */
export function openKeyStore(dataDir: string, options: { readonly ownerFilter?: boolean } = {}): SqliteSealingKeyStore {
  return SqliteSealingKeyStore.open(join(dataDir, KEYS_FILE), options);
}

/** Keys read at a time by `LogOrderKeys`, and how many such pages it keeps (about 16,000 keys, 4 MB). */
const KEY_PAGE = 2_048;
const KEY_PAGES_KEPT = 8;
/** Pages read ahead for a stream's first event before its key is looked up on its own. */
const KEY_PAGES_AHEAD = 4;

/**
 * Stream keys for a reader of the whole log in order (the rebuild): streams were keyed as their
 * first events were appended, so the keys table read straight through, a page at a time, holds
 * each stream's key near where the log reaches it. A key not among the pages kept (a stream's
 * later event, a key destroyed by an erasure) is looked up on its own, so every answer is the
 * store's: a point lookup per sealed event at random places of a large index cost a quarter of
 * each rebuild thread's time at 1,000,000 identities.
 */
export class LogOrderKeys {
  private readonly pages: Map<string, SealingKey>[] = [];
  /** The page the last key was found in, asked first: the log reaches keys in about the order they were made. */
  private lastHit: Map<string, SealingKey> | null = null;
  private after = 0;
  private exhausted = false;

  constructor(private readonly keys: SqliteSealingKeyStore) {}

  keyFor(event: Pick<RecordedEvent, 'streamName' | 'streamRevision'>): SealingKey | undefined {
    const owner = event.streamName;
    const likely = this.lastHit?.get(owner);
    if (likely) return likely;
    for (let index = this.pages.length - 1; index >= 0; index--) {
      const page = this.pages[index] as Map<string, SealingKey>;
      const key = page === this.lastHit ? undefined : page.get(owner);
      if (key) {
        this.lastHit = page;
        return key;
      }
    }
    if (event.streamRevision === 0) {
      for (let read = 0; read < KEY_PAGES_AHEAD && !this.exhausted; read++) {
        const page = this.nextPage();
        const key = page.get(owner);
        if (key) {
          this.lastHit = page;
          return key;
        }
      }
    }
    return this.keys.getNow(owner);
  }

  private nextPage(): Map<string, SealingKey> {
    const rows = this.keys.keysInOrder(this.after, KEY_PAGE);
    const page = new Map<string, SealingKey>();
    for (const { row, owner, key } of rows) {
      page.set(owner, key);
      this.after = row;
    }
    if (rows.length < KEY_PAGE) this.exhausted = true;
    this.pages.push(page);
    if (this.pages.length > KEY_PAGES_KEPT && this.pages.shift() === this.lastHit) this.lastHit = null;
    return page;
  }
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
