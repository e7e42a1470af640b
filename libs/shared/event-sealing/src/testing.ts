export * from './testing/sealing-key-store.contract';
