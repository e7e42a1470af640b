import { describeSnapshotArchiveContract } from '@flagline/admin-projections/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteSnapshotArchive } from '@flagline/state-store-sqlite';

describeSnapshotArchiveContract('SQLite', () => {
  const directory = mkdtempSync(join(tmpdir(), 'flagline-snapshots-'));
  const path = join(directory, 'snapshots.sqlite');
  let archive = new SqliteSnapshotArchive(path);
  return {
    get archive() {
      return archive;
    },
    reopen: () => {
      archive.close();
      archive = new SqliteSnapshotArchive(path);
      return archive;
    },
    dispose: () => {
      archive.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
});
