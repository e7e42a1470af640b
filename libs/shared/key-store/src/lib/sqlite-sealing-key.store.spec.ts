import Database from 'better-sqlite3';
import { InMemorySealingKeyStore, newSealingKey } from '@flagline/event-sealing';
import { describeSealingKeyStoreContract } from '@flagline/event-sealing/testing';
import { indexKeyOf } from '@flagline/event-sourcing';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KEYS_FOLDED_EVERY, SqliteSealingKeyStore } from './sqlite-sealing-key.store';

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

  it('moves the keys of a file of the first schema (keyed by the owner text) at open, and drops that table', async () => {
    const path = join(directory, 'keys.sqlite');
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    old.exec('CREATE TABLE sealing_key (owner TEXT PRIMARY KEY, id TEXT NOT NULL, key BLOB NOT NULL) WITHOUT ROWID');
    const before = Array.from({ length: 30 }, (_, index) => ({ owner: `identity-${index}`, ...newSealingKey() }));
    for (const { owner, id, key } of before) old.prepare('INSERT INTO sealing_key (owner, id, key) VALUES (?, ?, ?)').run(owner, id, key);
    old.close();

    const keys = SqliteSealingKeyStore.open(path);
    for (const { owner, id, key } of before) expect(await keys.get(owner)).toEqual({ id, key });
    // A moved key is kept: ensure answers it, not the candidate.
    expect((await keys.ensure('identity-3', newSealingKey())).id).toBe(before[3]?.id);
    expect(await keys.destroy('identity-4')).toBe(true);
    await keys.close();

    const reopened = SqliteSealingKeyStore.open(path);
    expect(await reopened.get('identity-4')).toBeUndefined();
    expect((await reopened.get('identity-29'))?.id).toBe(before[29]?.id);
    await reopened.close();
    const db = new Database(path, { readonly: true });
    expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'sealing_key'").get()).toBeUndefined();
    db.close();
  });

  it('folds a file of the second schema (each key indexed as written) at open: every key found, the index gone', async () => {
    const path = join(directory, 'keys.sqlite');
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    old.exec(`
      CREATE TABLE sealing_keys (owner_key INTEGER NOT NULL, owner TEXT NOT NULL, id TEXT NOT NULL, key BLOB NOT NULL);
      CREATE INDEX sealing_keys_by_owner ON sealing_keys (owner_key);
    `);
    const before = Array.from({ length: 40 }, (_, index) => ({ owner: `identity-${index}`, ...newSealingKey() }));
    for (const { owner, id, key } of before) old.prepare('INSERT INTO sealing_keys (owner_key, owner, id, key) VALUES (?, ?, ?, ?)').run(indexKeyOf(owner), owner, id, key);
    old.close();

    const keys = SqliteSealingKeyStore.open(path);
    for (const { owner, id, key } of before) expect(keys.getNow(owner)).toEqual({ id, key });
    expect((await keys.ensure('identity-7', newSealingKey())).id).toBe(before[7]?.id);
    const made = await keys.ensure('identity-new', newSealingKey());
    expect(await keys.destroy('identity-8')).toBe(true);
    await keys.close();

    const reopened = SqliteSealingKeyStore.open(path);
    expect(reopened.getNow('identity-8')).toBeUndefined();
    expect(reopened.getNow('identity-39')?.id).toBe(before[39]?.id);
    expect(reopened.getNow('identity-new')?.id).toBe(made.id);
    await reopened.close();
    const db = new Database(path, { readonly: true });
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'sealing_keys_by_owner'").get()).toBeUndefined();
    expect(db.prepare('SELECT count(*) AS n FROM owner_keys').get()).toEqual({ n: 39 });
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    db.close();
  });

  it(`finds keys before and after their pairs are written ${KEYS_FOLDED_EVERY} at a time, destroys either kind, and keeps a key whose row reuses a destroyed row's number`, async () => {
    const path = join(directory, 'keys.sqlite');
    const keys = SqliteSealingKeyStore.open(path);
    const owners = Array.from({ length: KEYS_FOLDED_EVERY }, (_, index) => `identity-${index}`);
    // One turn: one transaction, which reaches the fold with its last key.
    const made = await Promise.all(owners.map((owner) => keys.ensure(owner, newSealingKey())));
    const pairs = (): number => {
      const db = new Database(path, { readonly: true });
      try {
        return (db.prepare('SELECT count(*) AS n FROM owner_keys').get() as { n: number }).n;
      } finally {
        db.close();
      }
    };
    expect(pairs()).toBe(KEYS_FOLDED_EVERY);
    // The last row is destroyed: the next key's row takes its number, below the fold.
    expect(await keys.destroy(`identity-${KEYS_FOLDED_EVERY - 1}`)).toBe(true);
    const reused = await keys.ensure('identity-reused', newSealingKey());
    const later = await Promise.all(['identity-t1', 'identity-t2', 'identity-t3'].map((owner) => keys.ensure(owner, newSealingKey())));
    expect(await keys.destroy('identity-t2')).toBe(true);
    expect(await keys.destroy('identity-5')).toBe(true);
    await keys.close();

    const reopened = SqliteSealingKeyStore.open(path);
    try {
      for (const index of [0, 1, 4, 6, 1000, KEYS_FOLDED_EVERY - 2]) expect(reopened.getNow(`identity-${index}`)?.id).toBe(made[index]?.id);
      expect(reopened.getNow('identity-5')).toBeUndefined();
      expect(reopened.getNow(`identity-${KEYS_FOLDED_EVERY - 1}`)).toBeUndefined();
      expect(reopened.getNow('identity-reused')?.id).toBe(reused.id);
      expect(reopened.getNow('identity-t1')?.id).toBe(later[0]?.id);
      expect(reopened.getNow('identity-t2')).toBeUndefined();
      expect(reopened.getNow('identity-t3')?.id).toBe(later[2]?.id);
      // A stored key is kept against a new candidate, folded or not.
      expect((await reopened.ensure('identity-1000', newSealingKey())).id).toBe(made[1000]?.id);
      expect((await reopened.ensure('identity-t3', newSealingKey())).id).toBe(later[2]?.id);
    } finally {
      await reopened.close();
    }
  });

  it("finds an owner's own key when another owner's key shares its index key", async () => {
    const path = join(directory, 'keys.sqlite');
    await SqliteSealingKeyStore.open(path).close();
    // Another owner's row under identity-a's index key, as a colliding hash would put it, stored first.
    const db = new Database(path);
    db.prepare('INSERT INTO sealing_keys (owner_key, owner, id, key) VALUES (?, ?, ?, ?)').run(indexKeyOf('identity-a'), 'identity-b', 'other', newSealingKey().key);
    db.close();
    const keys = SqliteSealingKeyStore.open(path);
    expect(await keys.get('identity-a')).toBeUndefined();
    const made = newSealingKey();
    expect((await keys.ensure('identity-a', made)).id).toBe(made.id);
    await keys.close();
    const reopened = SqliteSealingKeyStore.open(path);
    expect((await reopened.get('identity-a'))?.id).toBe(made.id);
    expect(await reopened.destroy('identity-a')).toBe(true);
    expect(await reopened.get('identity-a')).toBeUndefined();
    await reopened.close();
    const after = new Database(path, { readonly: true });
    expect(after.prepare('SELECT owner, id FROM sealing_keys').all()).toEqual([{ owner: 'identity-b', id: 'other' }]);
    after.close();
  });

  it('writes a new owner\'s key without a lookup once the owner filter is filled, and still keeps a stored key, a destroyed key gone', async () => {
    const path = join(directory, 'keys.sqlite');
    const keys = SqliteSealingKeyStore.open(path);
    // More than one fold and more pairs than the filter reads in one turn; the last ones stay in the tail.
    const owners = Array.from({ length: 2 * KEYS_FOLDED_EVERY + 100 }, (_, index) => `identity-${index}`);
    const made = await Promise.all(owners.map((owner) => keys.ensure(owner, newSealingKey())));
    expect(await keys.destroy('identity-3')).toBe(true);
    await keys.close();

    const reopened = SqliteSealingKeyStore.open(path);
    try {
      expect(reopened.ownerFilterComplete).toBe(false);
      while (!reopened.ownerFilterComplete) await new Promise<void>((resolve) => setImmediate(resolve));
      const lookupsBefore = reopened.ownerLookups;
      const fresh = await Promise.all(Array.from({ length: 1000 }, (_, index) => reopened.ensure(`identity-new-${index}`, newSealingKey())));
      // A Bloom filter of 2^24 bits holding about 9,300 keys: false positives are rare, not impossible.
      expect(reopened.ownerLookups - lookupsBefore).toBeLessThan(5);
      expect(reopened.getNow('identity-new-999')?.id).toBe(fresh[999]?.id);
      // Stored keys, folded (early rows) and in the tail (last rows), are kept against a candidate.
      for (const index of [0, 1, KEYS_FOLDED_EVERY + 7, owners.length - 1]) {
        expect((await reopened.ensure(`identity-${index}`, newSealingKey())).id).toBe(made[index]?.id);
      }
      // The destroyed key never comes back: its owner gets the new candidate.
      const candidate = newSealingKey();
      expect((await reopened.ensure('identity-3', candidate)).id).toBe(candidate.id);
      expect(candidate.id).not.toBe(made[3]?.id);
    } finally {
      await reopened.close();
    }
  });

  it('opened without its owner filter (a reader that writes no key), fills none and still finds every key by reading the file', async () => {
    const path = join(directory, 'keys.sqlite');
    const keys = SqliteSealingKeyStore.open(path);
    const owners = Array.from({ length: KEYS_FOLDED_EVERY + 10 }, (_, index) => `identity-${index}`);
    const made = await Promise.all(owners.map((owner) => keys.ensure(owner, newSealingKey())));
    await keys.close();

    const reader = SqliteSealingKeyStore.open(path, { ownerFilter: false });
    try {
      for (let turn = 0; turn < 5; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
      expect(reader.ownerFilterComplete).toBe(false);
      const lookupsBefore = reader.ownerLookups;
      // Folded (early rows) and in the tail (last rows).
      for (const index of [0, 1, owners.length - 1]) expect(reader.getNow(`identity-${index}`)).toEqual(made[index]);
      expect(reader.getNow('identity-none')).toBeUndefined();
      expect(reader.ownerLookups - lookupsBefore).toBeGreaterThanOrEqual(3);
      expect((await reader.ensure('identity-0', newSealingKey())).id).toBe(made[0]?.id);
    } finally {
      await reader.close();
    }
  });

  it('writes the keys asked for in one turn of the event loop in one transaction', async () => {
    const keys = SqliteSealingKeyStore.open(join(directory, 'keys.sqlite'));
    const transactions = jest.spyOn(Database.prototype, 'transaction');
    const kept = await Promise.all(Array.from({ length: 100 }, (_, index) => keys.ensure(`identity-${index}`, newSealingKey())));
    expect(transactions).toHaveBeenCalledTimes(1);
    expect(new Set(kept.map((key) => key.id)).size).toBe(100);
    expect(keys.getNow('identity-99')?.id).toBe(kept[99]?.id);
    transactions.mockRestore();
    await keys.close();
  });
});
