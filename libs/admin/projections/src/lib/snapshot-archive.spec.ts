import { describeSnapshotArchiveContract } from '../testing/snapshot-archive.contract';
import { InMemorySnapshotArchive } from './snapshot-archive';

describeSnapshotArchiveContract('in memory', () => {
  const archive = new InMemorySnapshotArchive();
  return { archive, dispose: () => archive.close() };
});
