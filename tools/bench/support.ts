import { createServer } from 'node:net';
import type { BenchIdentity } from './fixture';

/** A port free on loopback right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Resolves once `url` answers 2xx; throws after `timeoutMs`. */
export async function waitFor(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not come up`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The identify body the benchmarks send for an identity: its identifier and its 5 traits. */
export const identityBody = (identity: BenchIdentity, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ identifier: identity.identifier, ...extra, traits: Object.entries(identity.traits).map(([trait_key, trait_value]) => ({ trait_key, trait_value })) });

/** An identity as an OFREP evaluation context: its identifier as the targeting key, its traits beside it. */
export const ofrepBody = (identity: BenchIdentity): string => JSON.stringify({ context: { targetingKey: identity.identifier, ...identity.traits } });

/** Transient identify bodies for `identities`, each identifier prefixed so none is ever stored. */
export const transientBodies = (identities: readonly BenchIdentity[], prefix: string): string[] =>
  identities.map((identity) => identityBody({ ...identity, identifier: `${prefix}${identity.identifier}` }, { transient: true }));
