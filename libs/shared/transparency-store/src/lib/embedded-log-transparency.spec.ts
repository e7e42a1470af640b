import { EmbeddedEventStore } from '@flagline/event-store-embedded';
import { describeTransparencyFollowerContract } from '@flagline/transparency/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describeTransparencyFollowerContract('embedded event store', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'flagline-transparency-log-'));
  const log = await EmbeddedEventStore.open({ directory });
  return {
    log,
    dispose: async () => {
      await log.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
});
