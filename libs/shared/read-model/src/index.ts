export * from './lib/in-memory-read-model.store';
export * from './lib/in-memory-flag-analytics.store';
export * from './lib/batching-read-model.store';
export * from './lib/frozen-json';
