export * from './testing/snapshot-archive.contract';
