export * from './testing/read-model-store.contract';
export * from './testing/read-model-batch-commit.contract';
