export * from './lib/read-model.documents';
export * from './lib/read-model-store.port';
