export * from './lib/in-memory-read-model.store';
