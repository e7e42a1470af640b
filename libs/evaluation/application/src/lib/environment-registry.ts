import { readModelKeys, type EnvironmentDocument, type IdentityDocument, type ReadModelChange, type ReadModelStore } from '@flagline/contracts';
import { LRUCache } from 'lru-cache';
import { createHash } from 'node:crypto';
import { admits, FrequencySketch, identityPrint, KEEP_ANSWER_AT, keyPrint } from './identity-admission';
import { ServedEnvironment, type KeyKind } from './served-environment';

export interface RegistryOptions {
  /** Identity documents kept in memory (least recently used go first). */
  readonly identityCacheSize?: number;
  /** How long a cached identity is trusted without a change notification. */
  readonly identityTtlMs?: number;
  readonly clock?: () => number;
  readonly onError?: (error: unknown) => void;
  /**
   * A synchronous read of the store, where it has one (the standalone app's SQLite read models:
   * an indexed read of microseconds, less than a promise's round trip costs): identities not
   * cached are then read without waiting. The document or null, as the store's `get` answers.
   */
  readonly readNow?: (key: string) => unknown;
  /**
   * False only for an identity that was certainly never stored (in the standalone app, the event
   * log's filter of stream names): every new identity is then answered absent without a read.
   */
  readonly mayExist?: (environmentId: number, identifier: string) => boolean;
}

/**
 * What the identity cache holds for an identity known not to exist (the cache holds no null). The
 * cache holds documents themselves, with no wrapper object: when each was read is kept by the cache
 * (its time to live), 56 bytes less per cached identity than a wrapper with a time in it.
 */
const ABSENT = Symbol('absent identity');
type CachedIdentity = IdentityDocument | typeof ABSENT;

/** A store read of one identity under way, and the identity generation it began in. */
interface IdentityRead {
  readonly generation: number;
  readonly document: Promise<IdentityDocument | null>;
}

export interface ResolvedKey {
  readonly environment: ServedEnvironment;
  readonly kind: KeyKind;
}

const identityCacheKey = (environmentId: number, identifier: string): string => `${environmentId}\u0000${identifier}`;

/**
 * The evaluation service's copy of the read models: every environment compiled in memory,
 * reloaded on change notifications, and identities cached on demand. Requests never wait on
 * the store except for identities not yet cached, or while a notified change is being loaded.
 */
/** A cached identity older than its time to live is not served (the cache itself keeps expired entries visible to its walks). */
const NOT_STALE = { allowStale: false } as const;

export class EnvironmentRegistry {
  private readonly byId = new Map<number, ServedEnvironment>();
  private readonly byClientKey = new Map<string, ServedEnvironment>();
  private readonly byServerKeyHash = new Map<string, ServedEnvironment>();
  private readonly serverKeyHashes = new Map<string, string>();
  /**
   * Least recently used dropped first (a library LRU: dropping a Map's oldest entry scans the holes
   * deletes left); an entry older than the time to live is stale (read by `clock`, no timers), one
   * exactly as old as the time to live is not yet.
   */
  private readonly identities: LRUCache<string, CachedIdentity>;
  /** How long a cached identity is trusted; 0 caches none. */
  private readonly identityTtlMs: number;
  /**
   * How often each identity was read lately (from the cache or the store), which decides whether
   * one read synchronously is cached (see `readIdentityNow`); only with `readNow`.
   */
  private readonly frequencies: FrequencySketch | undefined;
  /** Reads under way, so that concurrent requests for one uncached identity share a single read. */
  private readonly identityReads = new Map<string, IdentityRead>();
  /** Bumped whenever identity documents may have changed, so a read that raced a change is not cached. */
  private identityGeneration = 0;
  private readonly dirty = new Set<number>();
  private reloading: Promise<void> | null = null;
  private unsubscribe: (() => void) | null = null;
  private lastSyncAt: number | null = null;
  private lastError: unknown = null;
  private cachedCount = 0;
  private readonly clock: () => number;

  constructor(
    private readonly store: ReadModelStore,
    private readonly options: RegistryOptions = {},
  ) {
    this.clock = options.clock ?? Date.now;
    this.identityTtlMs = options.identityTtlMs ?? 60_000;
    const clock = this.clock;
    // ttlResolution 0: the clock is read on every look-up rather than remembered behind a timer.
    // allowStale: the walks (`victim`'s) see expired entries too, as eviction does; reads pass NOT_STALE.
    this.identities = new LRUCache({ max: Math.max(1, options.identityCacheSize ?? 100_000), ttl: Math.max(1, this.identityTtlMs), ttlResolution: 0, perf: { now: clock }, allowStale: true });
    this.frequencies = options.readNow ? new FrequencySketch(Math.max(1, options.identityCacheSize ?? 100_000)) : undefined;
  }

  /** Subscribes, then loads everything: a change during the load is reloaded after it. */
  async start(): Promise<void> {
    this.unsubscribe = this.store.subscribe((change) => this.onChange(change));
    await this.refreshAll();
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  get ready(): boolean {
    return this.lastSyncAt !== null;
  }

  /** When the copy was last known to match the store (null before the first load). */
  get syncedAt(): number | null {
    return this.lastSyncAt;
  }

  get error(): unknown {
    return this.lastError;
  }

  get environmentCount(): number {
    return this.byId.size;
  }

  /** Identities (or their absence) put into the cache so far: each one a document kept, to be dropped in the old generation later. */
  get identitiesCached(): number {
    return this.cachedCount;
  }

  /**
   * Reloads every environment and forgets every cached identity: the resync after notifications
   * may have been missed (start, reconnect, resubscribe).
   */
  refreshAll(): Promise<void> {
    return this.refresh(true);
  }

  /**
   * Reloads the environments whose revision moved, keeping cached identities: the periodic check.
   * A cached identity is trusted only for its time to live, which bounds how long an identity
   * change whose notification was lost can go unseen, while the cache is not emptied (and every
   * active identity read again at once) on every check.
   */
  refreshEnvironments(): Promise<void> {
    return this.refresh(false);
  }

  private async refresh(forgetIdentities: boolean): Promise<void> {
    try {
      const keys = await this.store.keysWithPrefix(readModelKeys.environmentPrefix);
      const documents = await this.store.getMany<EnvironmentDocument>(keys);
      const seen = new Set<number>();
      for (const document of documents) {
        if (!document) continue;
        seen.add(document.environmentId);
        if (this.byId.get(document.environmentId)?.revision !== document.revision) this.install(document);
      }
      for (const id of [...this.byId.keys()]) if (!seen.has(id)) this.remove(id);
      if (forgetIdentities) {
        this.identities.clear();
        this.identityGeneration++;
      }
      this.lastSyncAt = this.clock();
      this.lastError = null;
    } catch (error) {
      this.lastError = error;
      this.options.onError?.(error);
      throw error;
    }
  }

  private onChange(change: ReadModelChange): void {
    if (change.identities.length > 0) this.identityGeneration++;
    for (const ref of change.identities) this.identities.delete(identityCacheKey(ref.environmentId, ref.identifier));
    for (const id of change.environmentIds) this.dirty.add(id);
    if (change.environmentIds.length > 0 && this.reloading === null) this.reloading = this.reloadDirty();
  }

  private async reloadDirty(): Promise<void> {
    try {
      while (this.dirty.size > 0) {
        const ids = [...this.dirty];
        this.dirty.clear();
        const documents = await this.store.getMany<EnvironmentDocument>(ids.map(readModelKeys.environment));
        documents.forEach((document, index) => {
          if (document) this.install(document);
          else this.remove(ids[index] as number);
        });
      }
      this.lastSyncAt = this.clock();
    } catch (error) {
      this.lastError = error;
      this.options.onError?.(error);
    } finally {
      this.reloading = null;
    }
  }

  /** A notified change still loading; callers that must see it await this (usually null). */
  get pending(): Promise<void> | null {
    return this.reloading;
  }

  private install(document: EnvironmentDocument): void {
    const current = this.byId.get(document.environmentId);
    if (current && current.revision >= document.revision) return;
    if (current) this.unindex(current);
    // Compiled from the previous revision: what the change left alone is reused, not compiled again.
    const served = new ServedEnvironment(document, current);
    this.byId.set(document.environmentId, served);
    this.byClientKey.set(document.apiKey, served);
    for (const key of document.serverKeys) this.byServerKeyHash.set(key.keyHash, served);
  }

  private remove(environmentId: number): void {
    const current = this.byId.get(environmentId);
    if (!current) return;
    this.unindex(current);
    this.byId.delete(environmentId);
  }

  private unindex(environment: ServedEnvironment): void {
    if (this.byClientKey.get(environment.document.apiKey) === environment) this.byClientKey.delete(environment.document.apiKey);
    for (const key of environment.document.serverKeys) {
      if (this.byServerKeyHash.get(key.keyHash) === environment) this.byServerKeyHash.delete(key.keyHash);
    }
    this.serverKeyHashes.clear();
  }

  environment(environmentId: number): ServedEnvironment | undefined {
    return this.byId.get(environmentId);
  }

  /** The environment an `X-Environment-Key` names: its client key, or one of its live server keys. */
  resolve(key: string): ResolvedKey | null {
    const byClient = this.byClientKey.get(key);
    if (byClient) return { environment: byClient, kind: 'client' };
    if (!key.startsWith('ser.')) return null;
    let hash = this.serverKeyHashes.get(key);
    if (hash === undefined) {
      hash = createHash('sha256').update(key).digest('hex');
      // Only keys that exist are remembered, so unknown keys cannot grow the cache.
      if (this.byServerKeyHash.has(hash) && this.serverKeyHashes.size < 10_000) this.serverKeyHashes.set(key, hash);
    }
    const byServer = this.byServerKeyHash.get(hash);
    return byServer ? { environment: byServer, kind: 'server' } : null;
  }

  /**
   * Whether the identity was read often lately (the frequency sketch's estimate reaches
   * `KEEP_ANSWER_AT`): only then is an answer made for it worth keeping. Without a sketch (a
   * registry whose store answers asynchronously) every cached identity counts as read often.
   */
  readOften(environmentId: number, identifier: string): boolean {
    const frequencies = this.frequencies;
    return frequencies === undefined || frequencies.frequency(identityPrint(environmentId, identifier)) >= KEEP_ANSWER_AT;
  }

  /**
   * The identity if the cache holds a fresh copy (null: known not to exist); undefined when it must
   * be read. A hit counts as a read of the identity (see `readIdentityNow`) unless `asRead` is
   * false: a second look within the same request is not another read.
   */
  cachedIdentity(environmentId: number, identifier: string, asRead = true): IdentityDocument | null | undefined {
    const cached = this.identities.get(identityCacheKey(environmentId, identifier), NOT_STALE);
    if (cached === undefined) return undefined;
    if (asRead) this.frequencies?.increment(identityPrint(environmentId, identifier));
    return cached === ABSENT ? null : cached;
  }

  /**
   * Caches a document (or its absence) read at `at`: it is trusted while its age is at most the
   * time to live, and stale once older (lru-cache's test is `now - start > ttl`). lru-cache takes
   * a start of 0 for "never stale", so a clock reading 0 is stored as the smallest positive number,
   * which gives the same ages.
   */
  private remember(key: string, document: IdentityDocument | null, at: number): void {
    if (this.identityTtlMs <= 0) return;
    this.identities.set(key, document ?? ABSENT, { start: at === 0 ? Number.MIN_VALUE : at });
    this.cachedCount++;
  }

  /**
   * The stored identity, from the cache or read synchronously (see `RegistryOptions.readNow`);
   * null when it does not exist; undefined when the store has no synchronous read (then call
   * `identity`). A read is cheap, so an identity is cached only once it was read `ADMIT_AT`
   * times lately and, the cache being full, more often than the one it would drop (see
   * identity-admission.ts): in a large population most identities are asked for once in a
   * while, and caching each would only keep documents alive through collections of the young
   * generation (their copying was the longest pause of identify at a million identities), then
   * in the old generation until its next mark-compact, to be dropped unused. A store that fails is reported, and the identity evaluated
   * without stored traits, as `identity` does. `cacheMissed`: the caller found it in no cache
   * (`cachedIdentity`) just now, so it is read without looking again.
   */
  readIdentityNow(environmentId: number, identifier: string, cacheMissed = false): IdentityDocument | null | undefined {
    const readNow = this.options.readNow;
    const frequencies = this.frequencies;
    if (readNow === undefined || frequencies === undefined) return undefined;
    if (!cacheMissed) {
      const cached = this.cachedIdentity(environmentId, identifier);
      if (cached !== undefined) return cached;
    }
    let document: IdentityDocument | null;
    try {
      document = this.options.mayExist?.(environmentId, identifier) === false ? null : (readNow(readModelKeys.identity(environmentId, identifier)) as IdentityDocument | null);
    } catch (error) {
      this.lastError = error;
      this.options.onError?.(error);
      return null;
    }
    // Synchronous: no change can have been notified since the read began.
    const print = identityPrint(environmentId, identifier);
    frequencies.increment(print);
    if (admits(frequencies, print, this.victim)) this.remember(identityCacheKey(environmentId, identifier), document, this.clock());
    return document;
  }

  /**
   * The fingerprint of the identity the full cache would drop next (its least recently used), or
   * undefined when it has room or would drop an expired entry, which costs nothing to lose.
   */
  private readonly victim = (): number | undefined => {
    const identities = this.identities;
    if (identities.size < identities.max) return undefined;
    const key = identities.rkeys().next().value;
    return key === undefined || identities.getRemainingTTL(key) < 0 ? undefined : keyPrint(key);
  };

  /**
   * The stored identity, from the cache or the store; null when it does not exist. Requests for
   * an identity that is being read share that read (a popular identity whose entry expired or
   * was cleared costs one store read, not one per request), unless a change was notified since
   * the read began: those requests must see the change, so they read again.
   */
  identity(environmentId: number, identifier: string): Promise<IdentityDocument | null> {
    const cached = this.cachedIdentity(environmentId, identifier);
    if (cached !== undefined) return Promise.resolve(cached);
    const key = identityCacheKey(environmentId, identifier);
    const underWay = this.identityReads.get(key);
    if (underWay && underWay.generation === this.identityGeneration) return underWay.document;
    const read: IdentityRead = { generation: this.identityGeneration, document: this.readIdentity(key, environmentId, identifier) };
    this.identityReads.set(key, read);
    const settled = (): void => {
      if (this.identityReads.get(key) === read) this.identityReads.delete(key);
    };
    read.document.then(settled, settled);
    return read.document;
  }

  private async readIdentity(key: string, environmentId: number, identifier: string): Promise<IdentityDocument | null> {
    const now = this.clock();
    const generation = this.identityGeneration;
    let document: IdentityDocument | null;
    try {
      document = await this.store.get<IdentityDocument>(readModelKeys.identity(environmentId, identifier));
    } catch (error) {
      // The store is unreachable: evaluate without stored traits rather than fail, and cache nothing.
      this.lastError = error;
      this.options.onError?.(error);
      return null;
    }
    if (generation !== this.identityGeneration) return document;
    this.remember(key, document, now);
    return document;
  }
}
