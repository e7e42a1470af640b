export { RedisReadModelStore, type RedisReadModelStoreOptions } from './lib/redis-read-model.store';
export { RedisReadModelKeyspace } from './lib/redis-read-model.keyspace';
export { READ_MODEL_COMMIT_SCRIPT } from './lib/read-model-commit.script';
export { RedisCheckpointStore, type RedisCheckpointStoreOptions } from './lib/redis-checkpoint.store';
export { RedisFlagAnalyticsStore, type RedisFlagAnalyticsStoreOptions } from './lib/redis-flag-analytics.store';
