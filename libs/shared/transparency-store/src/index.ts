export * from './lib/sqlite-tree.store';
export * from './lib/signing-key';
export * from './lib/start-transparency';
