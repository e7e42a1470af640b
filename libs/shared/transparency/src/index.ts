export * from './lib/merkle';
export * from './lib/merkle-tree';
export * from './lib/signed-tree-head';
export * from './lib/tree-store.port';
export * from './lib/in-memory-tree.store';
export * from './lib/transparency-log';
export * from './lib/export-verifier';
