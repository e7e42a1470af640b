import Database from 'better-sqlite3';
import { InMemorySealingKeyStore, newSealingKey } from '@flagline/event-sealing';
import { describeSealingKeyStoreContract } from '@flagline/event-sealing/testing';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteSealingKeyStore } from './sqlite-sealing-key.store';

describeSealingKeyStoreContract('in memory', () => {
  const keys = new InMemorySealingKeyStore();
  return Promise.resolve({ keys, dispose: () => keys.close() });
});

describeSealingKeyStoreContract('SQLite', () => {
  const directory = mkdtempSync(join(tmpdir(), 'flagline-keys-'));
  const path = join(directory, 'keys.sqlite');
  const opened = [SqliteSealingKeyStore.open(path)];
  return Promise.resolve({
    keys: opened[0] as SqliteSealingKeyStore,
    reopen: () => {
      const store = SqliteSealingKeyStore.open(path);
      opened.push(store);
      return Promise.resolve(store);
    },
    dispose: async () => {
      for (const store of opened) await store.close();
      rmSync(directory, { recursive: true, force: true });
    },
  });
});

describe('SqliteSealingKeyStore', () => {
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'flagline-keys-'));
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  const filesContain = (needle: Buffer): string[] =>
    readdirSync(directory).filter((name) => readFileSync(join(directory, name)).includes(needle));

  it("leaves no byte of a destroyed key in the database or its WAL, while the other keys' stay", async () => {
    const keys = SqliteSealingKeyStore.open(join(directory, 'keys.sqlite'));
    const doomed = await keys.ensure('identity-doomed', newSealingKey());
    const kept = await keys.ensure('identity-kept', newSealingKey());
    for (let index = 0; index < 50; index++) await keys.ensure(`identity-${index}`, newSealingKey());
    expect(filesContain(doomed.key)).not.toEqual([]);
    await keys.destroy('identity-doomed');
    expect(filesContain(doomed.key)).toEqual([]);
    expect(filesContain(Buffer.from('identity-doomed'))).toEqual([]);
    expect(filesContain(kept.key)).not.toEqual([]);
    await keys.close();
  });

  it('answers a committed key before it is durable only to the caller that made it: a read waits for its flush', async () => {
    const keys = SqliteSealingKeyStore.open(join(directory, 'keys.sqlite'));
    const committed = await keys.commit('identity-x', newSealingKey());
    let durable = false;
    void committed.durable.then(() => {
      durable = true;
    });
    const read = await keys.get('identity-x');
    expect(durable).toBe(true);
    expect(read?.id).toBe(committed.key.id);
    await keys.close();
  });

  it('writes the keys asked for in one turn of the event loop in one transaction', async () => {
    const transactions = jest.spyOn(Database.prototype, 'transaction');
    const keys = SqliteSealingKeyStore.open(join(directory, 'keys.sqlite'));
    const kept = await Promise.all(Array.from({ length: 100 }, (_, index) => keys.ensure(`identity-${index}`, newSealingKey())));
    expect(transactions).toHaveBeenCalledTimes(1);
    expect(new Set(kept.map((key) => key.id)).size).toBe(100);
    expect(keys.getNow('identity-99')?.id).toBe(kept[99]?.id);
    transactions.mockRestore();
    await keys.close();
  });
});
