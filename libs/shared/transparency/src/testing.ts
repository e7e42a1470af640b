export * from './testing/tree-store.contract';
export * from './testing/rfc6962-reference';
export * from './testing/transparency-follower.contract';
