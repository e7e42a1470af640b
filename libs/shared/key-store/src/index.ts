export * from './lib/sqlite-sealing-key.store';
export * from './lib/redis-sealing-key.store';
