export * from './testing/tree-store.contract';
export * from './testing/rfc6962-reference';
