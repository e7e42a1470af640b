import { describeTreeStoreContract } from '@flagline/transparency/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteTreeStore } from './sqlite-tree.store';

describeTreeStoreContract(
  'SQLite',
  () => {
    const directory = mkdtempSync(join(tmpdir(), 'flagline-tree-'));
    const path = join(directory, 'transparency.sqlite');
    let current = SqliteTreeStore.open(path);
    return {
      store: current,
      reopen: () => (current = SqliteTreeStore.open(path)),
      dispose: () => {
        current.close();
        rmSync(directory, { recursive: true, force: true });
      },
    };
  },
  { durable: true },
);
