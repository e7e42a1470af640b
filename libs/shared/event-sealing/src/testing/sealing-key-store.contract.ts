import { newSealingKey } from '../lib/event-sealer';
import { SealingKeyStoreClosed, type SealingKeyStore } from '../lib/sealing-key.store';

export interface SealingKeyStoreFixture {
  readonly keys: SealingKeyStore;
  /** Opens the same store again (another connection or process), for adapters that persist. */
  readonly reopen?: () => Promise<SealingKeyStore>;
  dispose(): Promise<void>;
}

/** The behaviour every `SealingKeyStore` adapter must have. */
export function describeSealingKeyStoreContract(name: string, open: () => Promise<SealingKeyStoreFixture>): void {
  describe(`SealingKeyStore contract: ${name}`, () => {
    let fixture: SealingKeyStoreFixture;
    beforeEach(async () => {
      fixture = await open();
    });
    afterEach(async () => {
      await fixture.dispose();
    });

    it('has no key for an owner it was never given one for', async () => {
      expect(await fixture.keys.get('identity-unknown')).toBeUndefined();
    });

    it('keeps the first key of an owner and answers it to later candidates', async () => {
      const first = newSealingKey();
      const kept = await fixture.keys.ensure('identity-a', first);
      expect(kept.id).toBe(first.id);
      expect(kept.key.equals(first.key)).toBe(true);
      const later = await fixture.keys.ensure('identity-a', newSealingKey());
      expect(later.id).toBe(first.id);
      const read = await fixture.keys.get('identity-a');
      expect(read?.id).toBe(first.id);
      expect(read?.key.equals(first.key)).toBe(true);
    });

    it('answers one key to concurrent candidates for one owner, and each owner its own', async () => {
      const kept = await Promise.all(Array.from({ length: 20 }, (_, index) => fixture.keys.ensure(`identity-${index % 4}`, newSealingKey())));
      for (let owner = 0; owner < 4; owner++) {
        const ids = new Set(kept.filter((_, index) => index % 4 === owner).map((key) => key.id));
        expect(ids.size).toBe(1);
        expect((await fixture.keys.get(`identity-${owner}`))?.id).toBe([...ids][0]);
      }
      expect(new Set(kept.map((key) => key.id)).size).toBe(4);
    });

    it('destroys a key: gone for good, and a new one may be made for the owner', async () => {
      const old = await fixture.keys.ensure('identity-b', newSealingKey());
      await fixture.keys.ensure('identity-c', newSealingKey());
      expect(await fixture.keys.destroy('identity-b')).toBe(true);
      expect(await fixture.keys.get('identity-b')).toBeUndefined();
      expect(await fixture.keys.destroy('identity-b')).toBe(false);
      expect(await fixture.keys.get('identity-c')).toBeDefined();
      const fresh = await fixture.keys.ensure('identity-b', newSealingKey());
      expect(fresh.id).not.toBe(old.id);
      expect((await fixture.keys.get('identity-b'))?.id).toBe(fresh.id);
    });

    it('refuses every call once closed, saying the store is closed, and may be closed again', async () => {
      await fixture.keys.ensure('identity-f', newSealingKey());
      await fixture.keys.close();
      await expect(fixture.keys.get('identity-f')).rejects.toThrow(SealingKeyStoreClosed);
      await expect(fixture.keys.ensure('identity-g', newSealingKey())).rejects.toThrow(SealingKeyStoreClosed);
      await expect(fixture.keys.destroy('identity-f')).rejects.toThrow(SealingKeyStoreClosed);
      if (fixture.keys.commit) await expect(fixture.keys.commit('identity-g', newSealingKey())).rejects.toThrow(SealingKeyStoreClosed);
      await expect(fixture.keys.close()).resolves.toBeUndefined();
      if (!fixture.reopen) return;
      // Nothing was written by the refused calls: the key kept before the close is still the owner's, and no other owner got one.
      const reopened = await fixture.reopen();
      try {
        expect(await reopened.get('identity-f')).toBeDefined();
        expect(await reopened.get('identity-g')).toBeUndefined();
      } finally {
        await reopened.close();
      }
    });

    it('keeps keys, and destroyed keys destroyed, across a reopen', async () => {
      if (!fixture.reopen) {
        console.log(`${name}: nothing persists, so there is nothing to reopen`);
        return;
      }
      const kept = await fixture.keys.ensure('identity-d', newSealingKey());
      await fixture.keys.ensure('identity-e', newSealingKey());
      await fixture.keys.destroy('identity-e');
      const reopened = await fixture.reopen();
      try {
        const read = await reopened.get('identity-d');
        expect(read?.id).toBe(kept.id);
        expect(read?.key.equals(kept.key)).toBe(true);
        expect(await reopened.get('identity-e')).toBeUndefined();
        // A candidate offered after the reopen (nothing of the owner in memory) gets the stored key.
        const offered = newSealingKey();
        const answered = await reopened.ensure('identity-d', offered);
        expect(answered.id).toBe(kept.id);
        expect(answered.key.equals(kept.key)).toBe(true);
        expect((await reopened.get('identity-d'))?.id).toBe(kept.id);
      } finally {
        await reopened.close();
      }
    });
  });
}
