import type { EventStore } from '@flagline/event-sourcing';
import type { LogTailStart } from '@flagline/event-store-embedded';
import { TransparencyLog } from '@flagline/transparency';
import { join } from 'node:path';
import { loadSigningKey } from './signing-key';
import { SqliteTreeStore, TRANSPARENCY_FILE_NAME } from './sqlite-tree.store';
import { workerLeafWriter } from './worker-leaf-writer';
import { workerLogChecker } from './worker-log-checker';

export interface TransparencyOptions {
  /** Where `transparency.sqlite` (and a generated signing key) are kept. */
  readonly dataDir: string;
  /** `TRANSPARENCY_SIGNING_KEY`: PEM, or the path of a PEM file; generated in the data directory when unset (`transparency-signing-key.pem`). */
  readonly signingKey?: string;
  readonly log: (message: string) => void;
  /** The embedded log's directory and where its file holds a position: the leaves are then written, and the start-up check run, by worker threads reading that file (`workerLeafWriter`, `workerLogChecker`). */
  readonly embeddedLog?: { readonly directory: string; readonly tailStart: (after: number) => LogTailStart };
}

/**
 * The log's Merkle tree in `<dataDir>/transparency.sqlite`, following the log as stored (the raw
 * store, never the upcasting or unsealing one; over an embedded log, from worker threads). Its start-up check runs in the background: tree
 * heads are signed once it passed, and a log that no longer matches is reported with the position.
 */
export function startTransparency(storedLog: EventStore, options: TransparencyOptions): { transparency: TransparencyLog; close: () => Promise<void> } {
  const signingKey = loadSigningKey({ dataDir: options.dataDir, ...(options.signingKey !== undefined ? { configured: options.signingKey } : {}) });
  const treePath = join(options.dataDir, TRANSPARENCY_FILE_NAME);
  const tree = SqliteTreeStore.open(treePath);
  const transparency = new TransparencyLog(storedLog, tree, {
    signingKey: signingKey.key,
    ...(options.embeddedLog
      ? {
          leafWriter: workerLeafWriter(treePath, options.embeddedLog.directory, options.embeddedLog.tailStart, { log: options.log }),
          logChecker: workerLogChecker(treePath, options.embeddedLog.directory, options.embeddedLog.tailStart),
        }
      : {}),
    onMismatch: (mismatch) => options.log(`transparency: THE EVENT LOG DOES NOT MATCH ITS MERKLE TREE at position ${mismatch.position}; no tree head will be signed. ${mismatch.message}`),
    onError: (error) => options.log(`transparency: ${error instanceof Error ? error.message : String(error)}`),
  });
  transparency.start().catch((error: unknown) => options.log(`transparency: the start-up check failed: ${error instanceof Error ? error.message : String(error)}`));
  return {
    transparency,
    close: async () => {
      await transparency.stop();
      tree.close();
    },
  };
}

/** What the health routes say of the tree: its size, whether the start-up check is done, and where the log stopped matching it, if it did. */
export function transparencyHealth(transparency: TransparencyLog): { treeSize: number; checked: boolean; mismatchAt: number | null } {
  return { treeSize: transparency.size, checked: transparency.check.done, mismatchAt: transparency.mismatch?.position ?? null };
}
