import type { BatchReadModelStore, ReadModelBatchCommit, ReadModelChange, ReadModelCommit } from '@flagline/contracts';
import type Redis from 'ioredis';
import { LuaScript } from './lua-script';
import { READ_MODEL_BATCH_COMMIT_SCRIPT, batchCommitScriptCall } from './read-model-batch-commit.script';
import { decodeReadModelChange } from './read-model-change.codec';
import { READ_MODEL_COMMIT_SCRIPT, commitScriptCall } from './read-model-commit.script';
import { RedisReadModelKeyspace } from './redis-read-model.keyspace';

export interface RedisReadModelStoreOptions {
  /** The connection for reads and commits. The caller owns it: `close()` leaves it open. */
  readonly redis: Redis;
  /** Prefix of every key and of the change channel; default `flagline:rm:v1:`. */
  readonly keyPrefix?: string;
  /** Keys asked for per SCAN round trip by `keysWithPrefix`; default 1000. */
  readonly scanCount?: number;
  /** Errors of the subscriber connection (it reconnects by itself). */
  readonly onError?: (error: unknown) => void;
  /**
   * Called each time the subscriber connection is subscribed again after it was lost. What was
   * published while it was down is lost, even when the command connection never dropped, so a
   * listener that caches documents reloads them here.
   */
  readonly onResubscribed?: () => void;
  /** The notification connection went down: changes committed from now on go unheard until it is back. */
  readonly onNotificationsLost?: () => void;
}

const commitScript = new LuaScript(READ_MODEL_COMMIT_SCRIPT);
const batchCommitScript = new LuaScript(READ_MODEL_BATCH_COMMIT_SCRIPT);

function parseDocument<T>(text: string | null): T | null {
  return text === null ? null : (JSON.parse(text) as T);
}

function parseCheckpoint(key: string, text: string | null): number {
  if (text === null) return 0;
  const position = Number(text);
  if (!Number.isSafeInteger(position)) throw new Error(`Checkpoint ${key} holds ${JSON.stringify(text)}, not a position`);
  return position;
}

/**
 * The read-model store on Redis: one JSON string per document, one decimal string per
 * checkpoint, commits as one Lua script (see READ_MODEL_COMMIT_SCRIPT) that also publishes the
 * change notification, so subscribers hear of exactly the commits that applied.
 *
 * Under Redis Cluster every key of one commit must hash to one slot: put a hash tag in the key
 * prefix (`{flagline:rm:v1}:`), which keeps the whole read model on one shard.
 */
export class RedisReadModelStore implements BatchReadModelStore {
  private readonly redis: Redis;
  private readonly keys: RedisReadModelKeyspace;
  private readonly listeners = new Set<(change: ReadModelChange) => void>();
  /** Subscribing puts a connection in a mode where it takes no other command: it gets its own. */
  private subscriber: Redis | null = null;
  private closed = false;

  constructor(private readonly options: RedisReadModelStoreOptions) {
    this.redis = options.redis;
    this.keys = new RedisReadModelKeyspace(options.keyPrefix);
  }

  async get<T>(key: string): Promise<T | null> {
    return parseDocument<T>(await this.redis.get(this.keys.document(key)));
  }

  async getMany<T>(keys: readonly string[]): Promise<(T | null)[]> {
    if (keys.length === 0) return [];
    const texts = await this.redis.mget(...keys.map((key) => this.keys.document(key)));
    return texts.map((text) => parseDocument<T>(text));
  }

  /**
   * SCAN with the prefix's glob characters escaped. SCAN may return a key more than once and
   * does not sort; the set and the sort give the same answer as the in-memory store.
   */
  async keysWithPrefix(prefix: string): Promise<string[]> {
    const pattern = this.keys.documentPattern(prefix);
    const found = new Set<string>();
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', this.options.scanCount ?? 1000);
      for (const key of batch) found.add(this.keys.documentKeyOf(key));
      cursor = next;
    } while (cursor !== '0');
    return [...found].sort();
  }

  async checkpoint(key: string): Promise<number> {
    return parseCheckpoint(key, await this.redis.get(this.keys.checkpoint(key)));
  }

  async checkpointMany(keys: readonly string[]): Promise<number[]> {
    if (keys.length === 0) return [];
    const texts = await this.redis.mget(...keys.map((key) => this.keys.checkpoint(key)));
    return texts.map((text, index) => parseCheckpoint(keys[index] as string, text));
  }

  async commit(commit: ReadModelCommit): Promise<boolean> {
    const { keys, args } = commitScriptCall(commit, this.keys);
    return (await commitScript.run(this.redis, keys, args)) === 1;
  }

  /** One Lua script for the whole batch (see READ_MODEL_BATCH_COMMIT_SCRIPT). */
  async commitBatch(batch: ReadModelBatchCommit): Promise<boolean> {
    const { keys, args } = batchCommitScriptCall(batch, this.keys);
    return (await batchCommitScript.run(this.redis, keys, args)) === 1;
  }

  /**
   * Notifications are Redis pub/sub: fire and forget. One published while the subscriber is
   * disconnected is lost (the connection resubscribes when it is back), so listeners that cache
   * documents should also refresh on their own schedule.
   */
  subscribe(listener: (change: ReadModelChange) => void): () => void {
    this.listeners.add(listener);
    this.ensureSubscriber();
    return () => {
      this.listeners.delete(listener);
    };
  }

  private ensureSubscriber(): void {
    if (this.subscriber || this.closed) return;
    // Its own connection, always queueing and connecting eagerly whatever the main one's
    // options: SUBSCRIBE must be sent at connect and re-sent by ioredis on every reconnect.
    const subscriber = this.redis.duplicate({ lazyConnect: false, enableOfflineQueue: true, maxRetriesPerRequest: null });
    this.subscriber = subscriber;
    subscriber.on('error', (error: unknown) => this.options.onError?.(error));
    subscriber.on('message', (channel: string, payload: string) => {
      if (channel !== this.keys.changesChannel) return;
      const change = decodeReadModelChange(payload);
      if (!change) return;
      for (const listener of this.listeners) listener(change);
    });
    let subscribed = false;
    subscriber.on('close', () => {
      if (subscribed && !this.closed) this.options.onNotificationsLost?.();
    });
    subscriber.on('ready', () => {
      if (!subscribed) return;
      // A reconnection: ioredis re-sends SUBSCRIBE by itself; subscribing once more resolves when
      // Redis confirmed it, after which every commit is heard of again.
      subscriber.subscribe(this.keys.changesChannel).then(
        () => this.options.onResubscribed?.(),
        (error: unknown) => this.options.onError?.(error),
      );
    });
    subscriber.subscribe(this.keys.changesChannel).then(
      () => (subscribed = true),
      (error: unknown) => this.options.onError?.(error),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    const subscriber = this.subscriber;
    this.subscriber = null;
    if (subscriber) await subscriber.quit().catch(() => subscriber.disconnect());
  }
}
