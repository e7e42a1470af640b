import { newSealingKey } from '@flagline/event-sealing';
import { describeSealingKeyStoreContract } from '@flagline/event-sealing/testing';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KEYS_FOLDED_EVERY, SqliteSealingKeyStore } from './sqlite-sealing-key.store';
import { ThreadedSealingKeyStore } from './threaded-sealing-key.store';

describeSealingKeyStoreContract('SQLite, written by a worker thread', () => {
  const directory = mkdtempSync(join(tmpdir(), 'flagline-threaded-keys-'));
  const path = join(directory, 'keys.sqlite');
  const opened: { close(): Promise<void> }[] = [];
  const keys = ThreadedSealingKeyStore.open(path);
  opened.push(keys);
  return Promise.resolve({
    keys,
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

describe('ThreadedSealingKeyStore', () => {
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'flagline-threaded-keys-'));
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it(`finds the keys its writer committed here, before and after the writer folds them ${KEYS_FOLDED_EVERY} at a time, and across a reopen`, async () => {
    const path = join(directory, 'keys.sqlite');
    const keys = ThreadedSealingKeyStore.open(path);
    const owners = Array.from({ length: KEYS_FOLDED_EVERY + 10 }, (_, index) => `identity-${index}`);
    // Several turns of the event loop, so several batches, one of them reaching the fold.
    const made = [];
    for (let from = 0; from < owners.length; from += 1000) made.push(...(await Promise.all(owners.slice(from, from + 1000).map((owner) => keys.ensure(owner, newSealingKey())))));
    for (const index of [0, 1, 999, 1000, KEYS_FOLDED_EVERY - 1, KEYS_FOLDED_EVERY, KEYS_FOLDED_EVERY + 9]) expect(keys.getNow(`identity-${index}`)?.id).toBe(made[index]?.id);
    // A candidate for an owner with a key gets the stored one, from the writer.
    const again = await keys.commit('identity-7', newSealingKey());
    expect(again.key.id).toBe(made[7]?.id);
    await again.durable;
    await keys.close();
    const reopened = SqliteSealingKeyStore.open(path);
    for (const index of [0, 2000, KEYS_FOLDED_EVERY + 9]) expect(reopened.getNow(`identity-${index}`)?.id).toBe(made[index]?.id);
    await reopened.close();
  });

  it('a committed key is read by others only once durable; a destroyed key is gone from here and from the files, and a new one is made for its owner', async () => {
    const path = join(directory, 'keys.sqlite');
    const keys = ThreadedSealingKeyStore.open(path);
    const committed = await keys.commit('identity-x', newSealingKey());
    let durable = false;
    void committed.durable.then(() => {
      durable = true;
    });
    expect((await keys.get('identity-x'))?.id).toBe(committed.key.id);
    expect(durable).toBe(true);
    for (let index = 0; index < 20; index++) await keys.ensure(`identity-${index}`, newSealingKey());
    expect(await keys.destroy('identity-x')).toBe(true);
    expect(await keys.get('identity-x')).toBeUndefined();
    expect(keys.getNow('identity-x')).toBeUndefined();
    expect(readdirSync(directory).filter((name) => readFileSync(join(directory, name)).includes(committed.key.key))).toEqual([]);
    const next = await keys.ensure('identity-x', newSealingKey());
    expect(next.id).not.toBe(committed.key.id);
    expect((await keys.get('identity-x'))?.id).toBe(next.id);
    expect(await keys.destroy('identity-never')).toBe(false);
    await keys.close();
    await expect(keys.commit('identity-late', newSealingKey())).rejects.toThrow(/closed/);
  });
});
