import { parentPort, workerData } from 'node:worker_threads';
import { asSealingKey, type KeyMessage, type KeyWriterReply, type KeyWriterRequest } from './key-writer.messages';
import { SqliteSealingKeyStore } from './sqlite-sealing-key.store';

/**
 * The sealing keys' writer thread (see `ThreadedSealingKeyStore`): the only connection that writes
 * `keys.sqlite`. Each batch of keys is one transaction, then one `fdatasync` of the WAL, as the
 * store does on the main thread, answered twice: once committed, once durable.
 */
function main(): void {
  const port = parentPort;
  if (!port) throw new Error('key-writer.worker runs as a worker thread');
  const store = SqliteSealingKeyStore.open(workerData as string);
  const reply = (message: KeyWriterReply): void => port.postMessage(message);
  const failed = (batch: number, error: unknown): void => reply({ kind: 'failed', batch, message: error instanceof Error ? error.message : String(error) });
  port.on('message', (request: KeyWriterRequest) => {
    const { batch } = request;
    if (request.kind === 'commit') {
      // The store gathers the commits of this turn into one transaction.
      Promise.all(request.keys.map((key) => store.commit(key.owner, asSealingKey(key)))).then(
        (committed) => {
          const { foldedUpTo } = store.placeOf('');
          const kept = committed.map(({ key }, index) => ({ owner: (request.keys[index] as KeyMessage).owner, id: key.id, key: key.key, row: store.placeOf((request.keys[index] as KeyMessage).owner).row }));
          reply({ kind: 'committed', batch, kept, foldedUpTo });
          Promise.all(committed.map(({ durable }) => durable)).then(
            () => reply({ kind: 'durable', batch }),
            (error: unknown) => failed(batch, error),
          );
        },
        (error: unknown) => failed(batch, error),
      );
    } else if (request.kind === 'destroy') {
      store.destroy(request.owner).then(
        (deleted) => reply({ kind: 'destroyed', batch, deleted }),
        (error: unknown) => failed(batch, error),
      );
    } else {
      store.close().then(
        () => {
          reply({ kind: 'closed', batch });
          port.close();
        },
        (error: unknown) => failed(batch, error),
      );
    }
  });
}

main();
