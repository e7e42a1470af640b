// jest loads globalSetup and globalTeardown as separate modules, so the running servers are
// handed from one to the other through a global slot.
import type { KafkaBroker, RedisServer } from './brokers';

export interface SharedServers {
  redis?: RedisServer | undefined;
  kafka?: KafkaBroker | undefined;
}

const SLOT = Symbol.for('flagline.infra.shared-servers');
type Slot = { [SLOT]?: SharedServers };

export function setSharedServers(servers: SharedServers): void {
  (globalThis as Slot)[SLOT] = servers;
}

export function takeSharedServers(): SharedServers {
  const slot = globalThis as Slot;
  const servers = slot[SLOT] ?? {};
  delete slot[SLOT];
  return servers;
}

/** CI, or an explicit FLAGLINE_REQUIRE_INFRA=1, turns missing infrastructure into a failure instead of a skip. */
export function infraRequired(): boolean {
  const ci = (process.env['CI'] ?? '').toLowerCase();
  return (ci !== '' && ci !== '0' && ci !== 'false') || process.env['FLAGLINE_REQUIRE_INFRA'] === '1';
}
