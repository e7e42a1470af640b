export * from './lib/sqlite-tree.store';
export * from './lib/signing-key';
