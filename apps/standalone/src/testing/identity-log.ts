import { identityIdFor, type IdentityIds } from '@flagline/admin-domain';
import type { EventMetadata, NewEvent } from '@flagline/event-sourcing';
import { EmbeddedEventStore } from '@flagline/event-store-embedded';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { identityIdsOf } from '../sealing';
import { ADMIN, expectStatus, num, startTestApp, str } from './http-harness';

export interface SeededEnvironment {
  readonly adminKey: string;
  readonly projectId: number;
  readonly environmentId: number;
  readonly clientKey: string;
  readonly featureId: number;
}

/** An organisation, a project with one feature and an environment, made through the admin API of an app on `dataDir`, then stopped. */
export async function seedEnvironment(dataDir: string, adminKey: string): Promise<SeededEnvironment> {
  const app = await startTestApp({ dataDir, env: { ADMIN_API_KEY: adminKey } });
  try {
    const organisationId = num(expectStatus(await app.admin.post(`${ADMIN}/organisations`, { name: 'Scale' }), 201), 'id');
    const projectId = num(expectStatus(await app.admin.post(`${ADMIN}/projects`, { organisation: organisationId, name: 'Scale' }), 201), 'id');
    const environment = expectStatus(await app.admin.post(`${ADMIN}/projects/${projectId}/environments`, { name: 'Production' }), 201);
    const featureId = num(expectStatus(await app.admin.post(`${ADMIN}/projects/${projectId}/features`, { name: 'banner', initialValue: 'off' }), 201), 'id');
    return { adminKey, projectId, environmentId: num(environment, 'id'), clientKey: str(environment, 'apiKey'), featureId };
  } finally {
    await app.stop();
  }
}

const metadata: EventMetadata = { actor: { kind: 'system', id: 'seed' }, occurredAt: '2026-12-05T00:00:00.000Z', correlationId: 'identity-log' };

/** The event an SDK identify with five traits appends for a new identity. */
export function identityEvents(environment: SeededEnvironment, identifier: string, n: number, identityIds: IdentityIds = identityIdFor): NewEvent[] {
  const base = { identityId: identityIds(environment.environmentId, identifier), projectId: environment.projectId, environmentId: environment.environmentId, identifier };
  const traits = { plan: n % 3 === 0 ? 'pro' : 'free', age: n % 90, country: 'fr', beta: n % 2 === 0, app_version: '2.3.0' };
  return [{ id: randomUUID(), type: 'IdentityCreated', data: { ...base, schemaVersion: 2, createdAt: metadata.occurredAt, traits, floats: [] }, metadata }];
}

/**
 * Appends `count` identities (one event each) straight to the event log of a stopped app,
 * many appends in flight so they share group commits: a long history made in seconds.
 */
export async function appendIdentities(dataDir: string, environment: SeededEnvironment, count: number, prefix = 'user'): Promise<void> {
  const store = await EmbeddedEventStore.open({ directory: join(dataDir, 'events') });
  try {
    // Named as the data directory names identities (keyed since its first start).
    const identityIds = await identityIdsOf(dataDir, store);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < count) {
        const n = next++;
        const identifier = `${prefix}-${n}`;
        await store.appendToStream(`identity-${identityIds(environment.environmentId, identifier)}`, identityEvents(environment, identifier, n, identityIds), { expectedRevision: 'no_stream' });
      }
    };
    await Promise.all(Array.from({ length: 256 }, worker));
  } finally {
    await store.close();
  }
}
