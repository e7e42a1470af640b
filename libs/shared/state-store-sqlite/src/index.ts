export * from './lib/sqlite-catalog-store';
export * from './lib/sqlite-snapshot-archive';
