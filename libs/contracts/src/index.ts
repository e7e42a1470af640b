export * from './lib/read-model.documents';
export * from './lib/read-model-store.port';
export * from './lib/flag-analytics.port';
export * from './lib/identity-writer.port';
export * from './lib/identity-address';
export * from './lib/deep-freeze';
