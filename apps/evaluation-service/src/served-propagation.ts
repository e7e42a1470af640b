import type { ReadModelChange, ReadModelStore } from '@flagline/contracts';

/** What an environment document read back must carry to be timed. */
function changedEnvironment(value: unknown): { environmentId: number; revision: number; updatedAt: number } | null {
  if (typeof value !== 'object' || value === null) return null;
  const { environmentId, revision, updatedAt } = value as Record<string, unknown>;
  if (typeof environmentId !== 'number' || typeof revision !== 'number' || typeof updatedAt !== 'string') return null;
  const at = Date.parse(updatedAt);
  return Number.isNaN(at) ? null : { environmentId, revision, updatedAt: at };
}

/**
 * The store an evaluation service's registry reads, watched for the end-to-end propagation of
 * changes: when an environment that a change notification named is read back at a newer
 * revision (the registry installs it at once and serves it from then on), `observe` is given the
 * seconds since the change happened (the document's `updatedAt`, its last event's time). Full
 * loads (at start, after a reconnection) are not timed: a document's age there is not how long a
 * change took to arrive.
 */
export function timeServedChanges(store: ReadModelStore, observe: (seconds: number) => void, now: () => number = Date.now): ReadModelStore {
  /** Environments named by a notification and not read back since. */
  const notified = new Set<number>();
  const revisions = new Map<number, number>();
  return {
    get: (key) => store.get(key),
    async getMany<T>(keys: readonly string[]): Promise<(T | null)[]> {
      const documents = await store.getMany<T>(keys);
      const at = now();
      for (const document of documents) {
        const environment = changedEnvironment(document);
        if (environment === null) continue;
        const previous = revisions.get(environment.environmentId);
        if (previous !== undefined && environment.revision <= previous) continue;
        revisions.set(environment.environmentId, environment.revision);
        if (notified.delete(environment.environmentId)) observe(Math.max(0, at - environment.updatedAt) / 1000);
      }
      return documents;
    },
    keysWithPrefix: (prefix) => store.keysWithPrefix(prefix),
    checkpoint: (key) => store.checkpoint(key),
    commit: (commit) => store.commit(commit),
    subscribe: (listener) =>
      store.subscribe((change: ReadModelChange) => {
        for (const environmentId of change.environmentIds) notified.add(environmentId);
        listener(change);
      }),
    close: () => store.close(),
  };
}
