export * from './testing/tree-store.contract';
