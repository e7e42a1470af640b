export * from './lib/sqlite-catalog-store';
