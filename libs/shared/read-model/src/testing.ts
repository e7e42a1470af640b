export * from './testing/read-model-store.contract';
