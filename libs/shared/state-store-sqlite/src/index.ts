export * from './lib/chunked-insert';
export * from './lib/sqlite-catalog-store';
export * from './lib/sqlite-snapshot-archive';
export { encodeState } from './lib/state-codec';
export * from './lib/truncate-wal';
