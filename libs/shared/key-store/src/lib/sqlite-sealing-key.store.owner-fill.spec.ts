import { newSealingKey, type SealingKey } from '@flagline/event-sealing';
import { indexKeyOf } from '@flagline/event-sourcing';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KEYS_FOLDED_EVERY, SqliteSealingKeyStore } from './sqlite-sealing-key.store';

/**
 * The owner filter is filled from `owner_keys` a slice per turn after open; until it holds every
 * owner, a lookup must read the file. These specs open a file of many owners' keys and read,
 * write, destroy and close while that fill is still running.
 */

/** Owners in the file before open: four folds' pairs in `owner_keys` (several turns of the fill), the rest in the tail. */
const OWNERS = 4 * KEYS_FOLDED_EVERY + 3_616;
const FOLDED = 4 * KEYS_FOLDED_EVERY;
const owner = (index: number): string => `identity-${index}`;

const nextTurn = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

async function untilFilled(store: SqliteSealingKeyStore): Promise<number> {
  let turns = 0;
  while (!store.ownerFilterComplete) {
    await nextTurn();
    turns++;
  }
  return turns;
}

/** Every key the file holds, by owner, read straight through the table. */
function keysByOwner(store: SqliteSealingKeyStore): Map<string, SealingKey[]> {
  const byOwner = new Map<string, SealingKey[]>();
  let after = 0;
  for (;;) {
    const page = store.keysInOrder(after, 5_000);
    if (page.length === 0) return byOwner;
    for (const { row, owner: name, key } of page) {
      byOwner.set(name, [...(byOwner.get(name) ?? []), key]);
      after = row;
    }
  }
}

/** Opens the file, checks its owner filter is still being filled, runs `body` with the store, and closes it whatever happens. */
async function openedMidFill<T>(path: string, body: (keys: SqliteSealingKeyStore) => Promise<T>): Promise<T> {
  const keys = SqliteSealingKeyStore.open(path);
  try {
    expect(keys.ownerFilterComplete).toBe(false);
    return await body(keys);
  } finally {
    await keys.close();
  }
}

const hex = (key: SealingKey | undefined): string | undefined => (key ? `${key.id}:${key.key.toString('hex')}` : undefined);

/** The file holds exactly the expected keys: one per owner with a key (its bytes), none for an owner without. */
function expectExactly(store: SqliteSealingKeyStore, expected: ReadonlyMap<string, SealingKey | undefined>): void {
  const stored = keysByOwner(store);
  const wrong: string[] = [];
  for (const [name, key] of expected) {
    const found = stored.get(name) ?? [];
    if (key === undefined ? found.length !== 0 : found.length !== 1 || hex(found[0]) !== hex(key)) wrong.push(name);
    if (hex(store.getNow(name)) !== hex(key)) wrong.push(`${name} (getNow)`);
  }
  for (const name of stored.keys()) if (!expected.has(name)) wrong.push(`${name} (not expected)`);
  expect(wrong).toEqual([]);
}

describe('SqliteSealingKeyStore while its owner filter is still being filled', () => {
  jest.setTimeout(60_000);

  let template: string;
  let made: SealingKey[];
  /** Folded owners' indexes in the order the fill reads them (by `owner_key`). */
  let fillOrder: number[];
  let directory: string;
  let path: string;

  beforeAll(async () => {
    template = mkdtempSync(join(tmpdir(), 'flagline-keys-fill-'));
    const keys = SqliteSealingKeyStore.open(join(template, 'keys.sqlite'));
    // One turn: one transaction, folding every KEYS_FOLDED_EVERY keys.
    made = await Promise.all(Array.from({ length: OWNERS }, (_, index) => keys.ensure(owner(index), newSealingKey())));
    await keys.close();
    expect(existsSync(join(template, 'keys.sqlite-wal'))).toBe(false);
    fillOrder = Array.from({ length: FOLDED }, (_, index) => index).sort((a, b) => indexKeyOf(owner(a)) - indexKeyOf(owner(b)));
  });
  afterAll(() => rmSync(template, { recursive: true, force: true }));

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'flagline-keys-fill-'));
    path = join(directory, 'keys.sqlite');
    copyFileSync(join(template, 'keys.sqlite'), path);
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  const early = (n: number): number[] => fillOrder.slice(0, n);
  const late = (n: number): number[] => fillOrder.slice(-n);
  const tail = [FOLDED, FOLDED + 1, OWNERS - 1];
  const original = (): Map<string, SealingKey | undefined> => new Map(made.map((key, index) => [owner(index), key]));

  it('takes several turns to fill after open on this file', async () => {
    await openedMidFill(path, async (keys) => {
      expect(await untilFilled(keys)).toBeGreaterThanOrEqual(5);
    });
  });

  it("answers an owner's stored key, early or late in the fill's order or in the tail, and keeps it against a new candidate", async () => {
    await openedMidFill(path, async (keys) => {
      const read = [...early(3), ...late(3), ...tail];
      const lookupsBefore = keys.ownerLookups;
      for (const index of read) expect(hex(keys.getNow(owner(index)))).toBe(hex(made[index]));
      // Every folded owner was read from the file (the tail's are in memory).
      expect(keys.ownerLookups - lookupsBefore).toBe(6);
      expect(await keys.get('identity-never')).toBeUndefined();

      // A few turns on: the fill has passed the early owners, not the late ones.
      await nextTurn();
      await nextTurn();
      expect(keys.ownerFilterComplete).toBe(false);
      const asked = [...early(10).slice(3), ...late(10).slice(0, 7), FOLDED + 2, OWNERS - 2];
      const candidates = asked.map(() => newSealingKey());
      const committed = await Promise.all(asked.map((index, at) => keys.commit(owner(index), candidates[at] as SealingKey)));
      expect(keys.ownerFilterComplete).toBe(false);
      asked.forEach((index, at) => {
        expect(hex(committed[at]?.key)).toBe(hex(made[index]));
        expect(hex(committed[at]?.key)).not.toBe(hex(candidates[at]));
      });
      await Promise.all(committed.map(({ durable }) => durable));

      await untilFilled(keys);
      for (const index of [...read, ...asked]) expect(hex(keys.getNow(owner(index)))).toBe(hex(made[index]));
      expectExactly(keys, original());
    });
  });

  it('keeps the first key of each new owner written mid-fill (a fold among them), one key per owner, the same once the fill is done', async () => {
    await openedMidFill(path, async (keys) => {
      // The tail holds OWNERS - FOLDED keys: these new owners reach the next fold mid-batch.
      const fresh = Array.from({ length: 600 }, (_, index) => `identity-new-${index}`);
      const candidates = fresh.map(() => newSealingKey());
      // Asked for again in the same batch, before and after the fold: the first candidate stays.
      const again = [0, 1, 479, 480, 590, 599];
      const againCandidates = again.map(() => newSealingKey());
      const committed = await Promise.all([
        ...fresh.map((name, at) => keys.commit(name, candidates[at] as SealingKey)),
        ...again.map((at, nth) => keys.commit(fresh[at] as string, againCandidates[nth] as SealingKey)),
      ]);
      expect(keys.ownerFilterComplete).toBe(false);
      fresh.forEach((_, at) => expect(hex(committed[at]?.key)).toBe(hex(candidates[at])));
      again.forEach((at, nth) => expect(hex(committed[fresh.length + nth]?.key)).toBe(hex(candidates[at])));
      // Read back mid-fill, before it is durable only through get (which waits for the flush).
      expect(hex(await keys.get(fresh[599] as string))).toBe(hex(candidates[599]));
      await Promise.all(committed.map(({ durable }) => durable));

      await untilFilled(keys);
      const expected = original();
      fresh.forEach((name, at) => expected.set(name, candidates[at]));
      expectExactly(keys, expected);
      const later = await Promise.all(fresh.map((name) => keys.ensure(name, newSealingKey())));
      fresh.forEach((_, at) => expect(hex(later[at])).toBe(hex(candidates[at])));
      expectExactly(keys, expected);
    });
  });

  it('never answers a key destroyed mid-fill: not read, not kept against a candidate, once the fill is done', async () => {
    await openedMidFill(path, async (keys) => {
      const doomed = [...early(2), ...late(2), tail[0] as number, OWNERS - 1];
      for (const index of doomed.slice(0, 3)) expect(await keys.destroy(owner(index))).toBe(true);
      expect(keys.ownerFilterComplete).toBe(false);
      await nextTurn();
      // One read into the cache before its destroy.
      expect(hex(keys.getNow(owner(doomed[3] as number)))).toBe(hex(made[doomed[3] as number]));
      for (const index of doomed.slice(3)) expect(await keys.destroy(owner(index))).toBe(true);
      expect(keys.ownerFilterComplete).toBe(false);
      for (const index of doomed) expect(keys.getNow(owner(index))).toBeUndefined();
      // Neighbours in the fill's order keep theirs.
      for (const index of [...early(3).slice(2), ...late(3).slice(0, 1)]) expect(hex(keys.getNow(owner(index)))).toBe(hex(made[index]));

      await untilFilled(keys);
      for (const index of doomed) {
        expect(keys.getNow(owner(index))).toBeUndefined();
        expect(await keys.get(owner(index))).toBeUndefined();
        expect(await keys.destroy(owner(index))).toBe(false);
      }
      const expected = original();
      for (const index of doomed) expected.set(owner(index), undefined);
      expectExactly(keys, expected);
      // Asked for again, an owner whose key was destroyed gets the new candidate, never the old key.
      for (const index of doomed) {
        const candidate = newSealingKey();
        const kept = await keys.ensure(owner(index), candidate);
        expect(hex(kept)).toBe(hex(candidate));
        expect(kept.key.equals((made[index] as SealingKey).key)).toBe(false);
        expected.set(owner(index), candidate);
      }
      expectExactly(keys, expected);
    });
  });

  it('closed mid-fill, with writes in flight, and reopened (again mid-fill): no key lost, no second key, a destroyed key stays destroyed', async () => {
    const expected = original();
    const fresh = Array.from({ length: 50 }, (_, index) => `identity-new-${index}`);
    const freshKeys = fresh.map(() => newSealingKey());
    const doomed = [...early(2), ...late(2), tail[1] as number];
    const reborn = early(1)[0] as number;
    const rebornKey = newSealingKey();
    /** The destroyed owners not asked for again. */
    const gone = doomed.filter((index) => index !== reborn);
    // Handed out in an object: the writes must still be in flight when the store is closed.
    const { inFlight } = await openedMidFill(path, async (first) => {
      for (const index of doomed) expect(await first.destroy(owner(index))).toBe(true);
      for (const index of doomed) expected.set(owner(index), undefined);
      const committed = await Promise.all([
        ...fresh.map((name, at) => first.commit(name, freshKeys[at] as SealingKey)),
        // A destroyed owner asked for again mid-fill gets the candidate.
        first.commit(owner(reborn), rebornKey),
        // Stored owners asked for with candidates keep their keys.
        ...[...late(5).slice(0, 3), OWNERS - 3].map((index) => first.commit(owner(index), newSealingKey())),
      ]);
      expect(first.ownerFilterComplete).toBe(false);
      committed.slice(0, fresh.length).forEach(({ key }, at) => expect(hex(key)).toBe(hex(freshKeys[at])));
      expect(hex(committed[fresh.length]?.key)).toBe(hex(rebornKey));
      [...late(5).slice(0, 3), OWNERS - 3].forEach((index, at) => expect(hex(committed[fresh.length + 1 + at]?.key)).toBe(hex(made[index])));
      fresh.forEach((name, at) => expected.set(name, freshKeys[at]));
      expected.set(owner(reborn), rebornKey);
      // Asked for in the same turn as the close: written before the file is closed.
      const writes = Promise.all(['identity-last-0', 'identity-last-1'].map((name) => first.ensure(name, newSealingKey())));
      expect(first.ownerFilterComplete).toBe(false);
      return { inFlight: writes };
    });
    const last = await inFlight;
    expected.set('identity-last-0', last[0]);
    expected.set('identity-last-1', last[1]);

    await openedMidFill(path, async (second) => {
      for (const [name, key] of [...expected].filter((_, at) => at % 97 === 0)) expect(hex(second.getNow(name))).toBe(hex(key));
      for (const index of gone) expect(second.getNow(owner(index))).toBeUndefined();
      for (const [name, key] of [...expected].filter(([name]) => name.startsWith('identity-new-') || name.startsWith('identity-last-'))) {
        expect(hex(second.getNow(name))).toBe(hex(key));
      }
      expect(hex(second.getNow(owner(reborn)))).toBe(hex(rebornKey));
      // Asked for again mid-fill: the keys written before the close, and still none for the destroyed.
      const again = await Promise.all([...fresh, 'identity-last-1', owner(reborn)].map((name) => second.commit(name, newSealingKey())));
      expect(second.ownerFilterComplete).toBe(false);
      [...fresh, 'identity-last-1', owner(reborn)].forEach((name, at) => expect(hex(again[at]?.key)).toBe(hex(expected.get(name))));
      for (const index of gone) expect(second.getNow(owner(index))).toBeUndefined();
      // Closed mid-fill once more, their flush under way.
      expect(second.ownerFilterComplete).toBe(false);
    });

    await openedMidFill(path, async (third) => {
      await untilFilled(third);
      expectExactly(third, expected);
      for (const index of gone) expect(await third.get(owner(index))).toBeUndefined();
      for (const name of [...fresh, owner(reborn), owner(late(5)[0] as number)]) {
        expect(hex(await third.ensure(name, newSealingKey()))).toBe(hex(expected.get(name)));
      }
      expectExactly(third, expected);
    });
  });
});
