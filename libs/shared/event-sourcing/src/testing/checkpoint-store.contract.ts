import { randomUUID } from 'node:crypto';
import type { CheckpointStore } from '../lib/event-bus.port';

export interface CheckpointStoreHarness {
  readonly checkpoints: CheckpointStore;
  /** A fresh instance over the same storage, as a restarted process would open it (durable stores). */
  reopen?(): Promise<CheckpointStore>;
  dispose(): Promise<void>;
}

/** Names made of the characters every adapter accepts (the file store is the strictest). */
function uniqueName(prefix = 'consumer'): string {
  return `${prefix}-${randomUUID().replace(/-/g, '')}`;
}

export interface CheckpointStoreContractOptions {
  /** The store keeps positions across instances; its harness then provides `reopen`. */
  readonly durable: boolean;
}

/**
 * Behaviour every checkpoint store must show: in-memory, file (embedded) and Redis run it.
 * Names are unique per test, so a shared server works too.
 */
export function describeCheckpointStoreContract(
  adapterName: string,
  factory: () => Promise<CheckpointStoreHarness>,
  options: CheckpointStoreContractOptions,
): void {
  describe(`CheckpointStore contract: ${adapterName}`, () => {
    let harness: CheckpointStoreHarness;
    let checkpoints: CheckpointStore;

    beforeEach(async () => {
      harness = await factory();
      checkpoints = harness.checkpoints;
    });
    afterEach(async () => {
      await harness.dispose();
    });

    it('loads 0 for a consumer that never saved', async () => {
      expect(await checkpoints.load(uniqueName())).toBe(0);
    });

    it('loads the position last saved', async () => {
      const name = uniqueName();
      await checkpoints.save(name, 42);
      expect(await checkpoints.load(name)).toBe(42);
      await checkpoints.save(name, 1_234_567_890_123);
      expect(await checkpoints.load(name)).toBe(1_234_567_890_123);
    });

    it('keeps each consumer apart', async () => {
      const relay = uniqueName('relay');
      const projector = uniqueName('projector');
      await checkpoints.save(relay, 7);
      await checkpoints.save(projector, 3);
      expect(await checkpoints.load(relay)).toBe(7);
      expect(await checkpoints.load(projector)).toBe(3);
    });

    it('keeps the last of saves issued without waiting, in the order issued', async () => {
      const name = uniqueName();
      await Promise.all(Array.from({ length: 20 }, (_, i) => checkpoints.save(name, i + 1)));
      expect(await checkpoints.load(name)).toBe(20);
    });

    // Only durable stores promise this; the in-memory twin lives and dies with its process.
    if (options.durable) {
      it('keeps positions for a new instance over the same storage', async () => {
        if (!harness.reopen) throw new Error(`${adapterName} is declared durable, so its harness must provide reopen()`);
        const name = uniqueName();
        await checkpoints.save(name, 99);
        const reopened = await harness.reopen();
        expect(await reopened.load(name)).toBe(99);
      });
    }
  });
}
