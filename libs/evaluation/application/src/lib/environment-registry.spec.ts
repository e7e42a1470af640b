import type { IdentityDocument, ReadModelChange, ReadModelCommit, ReadModelStore } from '@flagline/contracts';
import { EnvironmentRegistry } from './environment-registry';
import { ADMIT_AT } from './identity-admission';

const identityDocument = (identifier: string, plan: string): IdentityDocument => ({
  environmentId: 1,
  identifier,
  identityUuid: `uuid-${identifier}`,
  createdAt: '2026-01-01T00:00:00.000Z',
  traits: { plan },
  overrides: [],
  revision: 1,
});

/**
 * A read-model store whose identity reads wait until the test answers them, so that requests
 * can be made to overlap a read. Reads of anything else find nothing.
 */
class HeldReadsStore implements ReadModelStore {
  readonly reads: { key: string; answer: (document: IdentityDocument | null) => void; fail: (error: Error) => void }[] = [];
  private readonly listeners = new Set<(change: ReadModelChange) => void>();

  get<T>(key: string): Promise<T | null> {
    return new Promise<T | null>((resolve, reject) => {
      this.reads.push({ key, answer: (document) => resolve(document as T | null), fail: reject });
    });
  }

  getMany<T>(keys: readonly string[]): Promise<(T | null)[]> {
    return Promise.resolve(keys.map(() => null));
  }

  keysWithPrefix(): Promise<string[]> {
    return Promise.resolve([]);
  }

  checkpoint(): Promise<number> {
    return Promise.resolve(0);
  }

  commit(commit: ReadModelCommit): Promise<boolean> {
    const change = { environmentIds: [...commit.changedEnvironments], identities: [...(commit.changedIdentities ?? [])] };
    for (const listener of this.listeners) listener(change);
    return Promise.resolve(true);
  }

  subscribe(listener: (change: ReadModelChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  notifyIdentityChanged(identifier: string): Promise<boolean> {
    return this.commit({ checkpoint: { key: 'c', expected: 0, next: 1 }, writes: [], changedEnvironments: [], changedIdentities: [{ environmentId: 1, identifier }] });
  }
}

describe('EnvironmentRegistry identity reads', () => {
  let store: HeldReadsStore;
  let registry: EnvironmentRegistry;
  let now: number;
  const errors: unknown[] = [];

  beforeEach(async () => {
    store = new HeldReadsStore();
    now = 1_000;
    errors.length = 0;
    registry = new EnvironmentRegistry(store, { clock: () => now, identityTtlMs: 60_000, onError: (error) => errors.push(error) });
    await registry.start();
  });

  afterEach(() => registry.stop());

  /** Asks for ada, which must take a new store read; answers that read with `plan` and checks the request got it. */
  const readAdaAnew = async (plan: string): Promise<void> => {
    const readsBefore = store.reads.length;
    const request = registry.identity(1, 'ada');
    expect(store.reads).toHaveLength(readsBefore + 1);
    store.reads[readsBefore]?.answer(identityDocument('ada', plan));
    expect((await request)?.traits).toEqual({ plan });
  };

  it('gives concurrent requests for one uncached identity a single store read, then serves it from the cache', async () => {
    const requests = [registry.identity(1, 'ada'), registry.identity(1, 'ada'), registry.identity(1, 'ada')];
    expect(store.reads.map((read) => read.key)).toEqual(['identity:1:ada']);
    const document = identityDocument('ada', 'pro');
    store.reads[0]?.answer(document);
    expect(await Promise.all(requests)).toEqual([document, document, document]);
    expect(await registry.identity(1, 'ada')).toBe(document);
    expect(store.reads).toHaveLength(1);
  });

  it('reads each identity for itself', async () => {
    const ada = registry.identity(1, 'ada');
    const grace = registry.identity(1, 'grace');
    const other = registry.identity(2, 'ada');
    expect(store.reads.map((read) => read.key)).toEqual(['identity:1:ada', 'identity:1:grace', 'identity:2:ada']);
    store.reads.forEach((read, index) => read.answer(index === 1 ? identityDocument('grace', 'free') : null));
    expect(await ada).toBeNull();
    expect((await grace)?.traits).toEqual({ plan: 'free' });
    expect(await other).toBeNull();
  });

  it('does not let a request that follows a change notification share a read begun before it', async () => {
    const before = registry.identity(1, 'ada');
    await store.notifyIdentityChanged('ada');
    const after = registry.identity(1, 'ada');
    expect(store.reads).toHaveLength(2);
    store.reads[1]?.answer(identityDocument('ada', 'enterprise'));
    store.reads[0]?.answer(identityDocument('ada', 'pro'));
    expect((await before)?.traits).toEqual({ plan: 'pro' });
    expect((await after)?.traits).toEqual({ plan: 'enterprise' });
    // The read begun before the change is not cached over the newer one.
    expect(registry.cachedIdentity(1, 'ada')?.traits).toEqual({ plan: 'enterprise' });
  });

  it('reads again once a shared read failed, and caches nothing from the failure', async () => {
    const first = [registry.identity(1, 'ada'), registry.identity(1, 'ada')];
    store.reads[0]?.fail(new Error('store unreachable'));
    expect(await Promise.all(first)).toEqual([null, null]);
    expect(errors).toHaveLength(1);
    expect(registry.cachedIdentity(1, 'ada')).toBeUndefined();
    await readAdaAnew('pro');
  });

  it('reads again once the cached copy is older than its time to live', async () => {
    await readAdaAnew('pro');
    now += 60_000;
    expect(registry.cachedIdentity(1, 'ada')?.traits).toEqual({ plan: 'pro' });
    now += 1;
    await readAdaAnew('enterprise');
  });

  it('lets a copy read when the clock reads 0 go stale as every other copy does', async () => {
    now = 0;
    const fromZero = new EnvironmentRegistry(store, { clock: () => now, identityTtlMs: 60_000 });
    await fromZero.start();
    const read = fromZero.identity(1, 'ada');
    store.reads[store.reads.length - 1]?.answer(identityDocument('ada', 'pro'));
    expect((await read)?.traits).toEqual({ plan: 'pro' });
    now = 60_000;
    expect(fromZero.cachedIdentity(1, 'ada')?.traits).toEqual({ plan: 'pro' });
    now = 60_001;
    expect(fromZero.cachedIdentity(1, 'ada')).toBeUndefined();
    fromZero.stop();
  });

  it('caches an identity known not to exist, and caches nothing with a time to live of 0', async () => {
    const absent = registry.identity(1, 'nobody');
    store.reads[0]?.answer(null);
    expect(await absent).toBeNull();
    expect(registry.cachedIdentity(1, 'nobody')).toBeNull();
    const uncaching = new EnvironmentRegistry(store, { clock: () => now, identityTtlMs: 0 });
    await uncaching.start();
    const read = uncaching.identity(1, 'ada');
    store.reads[store.reads.length - 1]?.answer(identityDocument('ada', 'pro'));
    expect((await read)?.traits).toEqual({ plan: 'pro' });
    expect(uncaching.cachedIdentity(1, 'ada')).toBeUndefined();
    uncaching.stop();
  });

  it('keeps cached identities through the periodic environment check, and forgets them on a full resync', async () => {
    await readAdaAnew('pro');
    await registry.refreshEnvironments();
    expect(registry.cachedIdentity(1, 'ada')?.traits).toEqual({ plan: 'pro' });
    await registry.refreshAll();
    expect(registry.cachedIdentity(1, 'ada')).toBeUndefined();
    await readAdaAnew('enterprise');
  });

  it('does not cache a read that a full resync overtook, nor share it with later requests', async () => {
    const before = registry.identity(1, 'ada');
    await registry.refreshAll();
    const after = registry.identity(1, 'ada');
    expect(store.reads).toHaveLength(2);
    store.reads[0]?.answer(identityDocument('ada', 'pro'));
    await before;
    expect(registry.cachedIdentity(1, 'ada')).toBeUndefined();
    store.reads[1]?.answer(identityDocument('ada', 'enterprise'));
    expect((await after)?.traits).toEqual({ plan: 'enterprise' });
  });
});

/** A started registry of `identityCacheSize` whose synchronous reads find every identity, and the keys it read. */
async function readingEveryIdentity(identityCacheSize: number): Promise<{ registry: EnvironmentRegistry; reads: string[] }> {
  const reads: string[] = [];
  const registry = new EnvironmentRegistry(new HeldReadsStore(), {
    identityCacheSize,
    readNow: (key) => {
      reads.push(key);
      return identityDocument(key.split(':')[2] ?? '', 'pro');
    },
  });
  await registry.start();
  return { registry, reads };
}

describe('EnvironmentRegistry synchronous identity reads', () => {
  it(`reads an uncached identity at once when the store can, caches one read ${ADMIT_AT} times lately, and reads again after a change notification`, async () => {
    const store = new HeldReadsStore();
    const documents = new Map<string, IdentityDocument>([['identity:1:ada', identityDocument('ada', 'pro')]]);
    const reads: string[] = [];
    const registry = new EnvironmentRegistry(store, {
      readNow: (key) => {
        reads.push(key);
        return documents.get(key) ?? null;
      },
    });
    await registry.start();
    // Read fewer times than ADMIT_AT: not cached (most identities of a large population are asked for once in a while).
    for (let read = 1; read < ADMIT_AT; read++) {
      expect(registry.readIdentityNow(1, 'ada')?.traits).toEqual({ plan: 'pro' });
      expect(registry.readIdentityNow(1, 'nobody')).toBeNull();
      expect(registry.cachedIdentity(1, 'ada')).toBeUndefined();
    }
    // Read once more while read lately: cached from then on.
    for (let read = 0; read < 3; read++) {
      expect(registry.readIdentityNow(1, 'ada')?.traits).toEqual({ plan: 'pro' });
      expect(registry.readIdentityNow(1, 'nobody')).toBeNull();
    }
    expect(reads).toEqual(Array.from({ length: ADMIT_AT }, () => ['identity:1:ada', 'identity:1:nobody']).flat());
    expect(registry.cachedIdentity(1, 'ada')?.traits).toEqual({ plan: 'pro' });
    expect(registry.cachedIdentity(1, 'nobody')).toBeNull();

    documents.set('identity:1:ada', identityDocument('ada', 'enterprise'));
    await store.notifyIdentityChanged('ada');
    expect(registry.readIdentityNow(1, 'ada')?.traits).toEqual({ plan: 'enterprise' });
    // The asynchronous store was never asked.
    expect(store.reads).toHaveLength(0);
    registry.stop();
  });

  it(`caches an identity read ${ADMIT_AT} times only while those reads are recent (their counts halve every ten times the cache size in reads)`, async () => {
    const { registry, reads } = await readingEveryIdentity(100);
    for (let read = 1; read < ADMIT_AT; read++) registry.readIdentityNow(1, 'ada');
    registry.readIdentityNow(2, 'ada');
    // Read once more soon after: cached; the same identifier in another environment is another identity.
    registry.readIdentityNow(1, 'ada');
    expect(registry.cachedIdentity(1, 'ada')?.identifier).toBe('ada');
    expect(registry.cachedIdentity(2, 'ada')).toBeUndefined();
    // Read once more only after thousands of others: its earlier reads have faded, so not cached.
    for (let read = 1; read < ADMIT_AT; read++) registry.readIdentityNow(1, 'grace');
    for (let index = 0; index < 5_000; index++) registry.readIdentityNow(1, `visitor-${index}`);
    registry.readIdentityNow(1, 'grace');
    expect(registry.cachedIdentity(1, 'grace')).toBeUndefined();
    expect(reads.filter((key) => key === 'identity:1:grace')).toHaveLength(ADMIT_AT);
    registry.stop();
  });

  it('keeps the identities read most often once the cache is full: one read as often as the one it would drop does not take its place', async () => {
    const { registry, reads } = await readingEveryIdentity(2);
    // Two hot identities fill the cache, then are read from it.
    for (const identifier of ['hot-1', 'hot-2']) for (let read = 0; read < ADMIT_AT + 3; read++) registry.readIdentityNow(1, identifier);
    expect(reads).toEqual([...Array<string>(ADMIT_AT).fill('identity:1:hot-1'), ...Array<string>(ADMIT_AT).fill('identity:1:hot-2')]);
    // An identity read ADMIT_AT times, fewer than either: read every time, and the hot ones stay cached.
    for (let read = 0; read < ADMIT_AT + 1; read++) registry.readIdentityNow(1, 'warm');
    expect(registry.cachedIdentity(1, 'warm')).toBeUndefined();
    expect(registry.cachedIdentity(1, 'hot-1')?.identifier).toBe('hot-1');
    expect(registry.cachedIdentity(1, 'hot-2')?.identifier).toBe('hot-2');
    // Read more often than the least recently used of them: it takes that one's place.
    for (let read = 0; read < 12; read++) registry.readIdentityNow(1, 'warm');
    expect(registry.cachedIdentity(1, 'warm')?.identifier).toBe('warm');
    expect(reads.filter((key) => key === 'identity:1:warm').length).toBeLessThan(ADMIT_AT + 13);
    registry.stop();
  });

  it('counts a look at a cached identity that is not a read (asRead false) as nothing: it does not keep a busier identity out', async () => {
    const { registry, reads } = await readingEveryIdentity(1);
    for (let read = 0; read < ADMIT_AT; read++) registry.readIdentityNow(1, 'looked-at');
    expect(registry.cachedIdentity(1, 'looked-at', false)?.identifier).toBe('looked-at');
    // Looked at again and again within requests that read it once each: not counted.
    for (let look = 0; look < 20; look++) registry.cachedIdentity(1, 'looked-at', false);
    // Read once more than it was, the newcomer takes its place.
    for (let read = 0; read < ADMIT_AT + 1; read++) registry.readIdentityNow(1, 'busier');
    expect(registry.cachedIdentity(1, 'busier', false)?.identifier).toBe('busier');
    expect(registry.cachedIdentity(1, 'looked-at', false)).toBeUndefined();
    expect(reads.filter((key) => key === 'identity:1:busier')).toHaveLength(ADMIT_AT + 1);
    registry.stop();
  });

  it('lets an identity read often enough take the place of an expired entry, however often that one was read, and never serves an expired one', async () => {
    let now = 1_000;
    const reads: string[] = [];
    const registry = new EnvironmentRegistry(new HeldReadsStore(), {
      identityCacheSize: 3,
      identityTtlMs: 100,
      clock: () => now,
      readNow: (key) => {
        reads.push(key);
        return identityDocument(key.split(':')[2] ?? '', 'pro');
      },
    });
    await registry.start();
    const readsOf = (identifier: string): number => reads.filter((key) => key === `identity:1:${identifier}`).length;
    // Three identities read twice as often as ADMIT_AT fill the cache; the two least recently used expire.
    // (28 reads in all: fewer than the 30 after which the counts halve.)
    for (const identifier of ['hot-1', 'hot-2']) for (let read = 0; read < 2 * ADMIT_AT; read++) registry.readIdentityNow(1, identifier);
    now += 101;
    for (let read = 0; read < 2 * ADMIT_AT; read++) registry.readIdentityNow(1, 'hot-3');
    // A newcomer read ADMIT_AT times, half as often as each of them: the entry it drops has expired, so it is cached.
    for (let read = 0; read < ADMIT_AT; read++) registry.readIdentityNow(1, 'newcomer');
    expect(registry.cachedIdentity(1, 'newcomer', false)?.identifier).toBe('newcomer');
    expect(registry.cachedIdentity(1, 'hot-3', false)?.identifier).toBe('hot-3');
    expect(readsOf('newcomer')).toBe(ADMIT_AT);
    expect(readsOf('hot-3')).toBe(ADMIT_AT);
    // An expired entry is read again from the store, not served.
    registry.readIdentityNow(1, 'hot-2');
    expect(readsOf('hot-2')).toBe(ADMIT_AT + 1);
    registry.stop();
  });

  it('answers an identity that cannot exist as absent without reading it, and reads every other', async () => {
    const reads: string[] = [];
    const registry = new EnvironmentRegistry(new HeldReadsStore(), {
      readNow: (key) => {
        reads.push(key);
        return key === 'identity:1:ada' ? identityDocument('ada', 'pro') : null;
      },
      mayExist: (environmentId, identifier) => environmentId === 1 && identifier !== 'new-visitor',
    });
    await registry.start();
    expect(registry.readIdentityNow(1, 'new-visitor')).toBeNull();
    expect(registry.readIdentityNow(2, 'ada')).toBeNull();
    expect(registry.readIdentityNow(1, 'ada')?.traits).toEqual({ plan: 'pro' });
    expect(registry.readIdentityNow(1, 'gone')).toBeNull();
    expect(reads).toEqual(['identity:1:ada', 'identity:1:gone']);
    registry.stop();
  });

  it('reports a failed read and evaluates without the identity, caching nothing; without a synchronous read it defers to identity()', async () => {
    const errors: unknown[] = [];
    const failing = new EnvironmentRegistry(new HeldReadsStore(), {
      readNow: () => {
        throw new Error('disk unreadable');
      },
      onError: (error) => errors.push(error),
    });
    await failing.start();
    expect(failing.readIdentityNow(1, 'ada')).toBeNull();
    expect(errors).toHaveLength(1);
    expect(failing.cachedIdentity(1, 'ada')).toBeUndefined();
    failing.stop();

    const asynchronous = new EnvironmentRegistry(new HeldReadsStore());
    await asynchronous.start();
    expect(asynchronous.readIdentityNow(1, 'ada')).toBeUndefined();
    asynchronous.stop();
  });
});
