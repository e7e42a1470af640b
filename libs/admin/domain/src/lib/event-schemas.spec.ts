import type { RecordedEvent } from '@flagline/event-sourcing';
import { EVENT_SCHEMA_VERSIONS, IDENTITY_EVENT_TYPES, PROJECT_EVENT_TYPES, upcastAdminEvent, upcastRecordedAdminEvent } from './event-schemas';

const recorded = (type: string, data: Record<string, unknown>): RecordedEvent => ({
  id: '00000000-0000-0000-0000-000000000001',
  type,
  data,
  metadata: { actor: { kind: 'system', id: 'test' }, occurredAt: '2026-12-05T00:00:00.000Z', correlationId: 'c' },
  streamName: 'identity-4:ana',
  streamRevision: 1,
  globalPosition: 42,
  recordedAt: '2026-12-05T00:00:00.000Z',
});

const address = { identityId: '4:ana', projectId: 2, environmentId: 4, identifier: 'ana' };

describe('event schema versions', () => {
  it('names a version of at least 1 for every event type', () => {
    const versions = Object.entries(EVENT_SCHEMA_VERSIONS);
    expect(versions.length).toBeGreaterThanOrEqual(58);
    for (const [, version] of versions) expect(version).toBeGreaterThanOrEqual(1);
  });

  it('names project and identity event types apart, each one the log may hold', () => {
    // The sets are built from records typed over each union, so the compiler checks that none is left out.
    expect(PROJECT_EVENT_TYPES.size).toBe(35);
    expect(IDENTITY_EVENT_TYPES.size).toBe(6);
    for (const type of [...PROJECT_EVENT_TYPES, ...IDENTITY_EVENT_TYPES]) expect(Object.keys(EVENT_SCHEMA_VERSIONS)).toContain(type);
    expect([...PROJECT_EVENT_TYPES].filter((type) => IDENTITY_EVENT_TYPES.has(type))).toEqual([]);
    expect(PROJECT_EVENT_TYPES.has('UserRegistered') || PROJECT_EVENT_TYPES.has('IdsReserved') || IDENTITY_EVENT_TYPES.has('MemberAdded')).toBe(false);
  });

  it('upcasts a version 1 IdentityTraitsChanged to the version the code writes, marking no floats', () => {
    const v1 = { type: 'IdentityTraitsChanged', data: { ...address, set: { score: 5 }, removed: ['old'] } };
    const upcast = upcastAdminEvent(v1);
    expect(upcast.data).toEqual({ ...address, set: { score: 5 }, removed: ['old'], schemaVersion: EVENT_SCHEMA_VERSIONS.IdentityTraitsChanged, floats: [] });
  });

  it('returns current and unknown events as the same object', () => {
    const current = { type: 'IdentityTraitsChanged', data: { ...address, schemaVersion: 2, set: { score: 5 }, floats: ['score'], removed: [] } };
    expect(upcastAdminEvent(current)).toBe(current);
    const feature = { type: 'FeatureCreated', data: { projectId: 2, featureId: 7 } };
    expect(upcastAdminEvent(feature)).toBe(feature);
    const unknown = { type: 'FromTheFuture', data: { anything: true } };
    expect(upcastAdminEvent(unknown)).toBe(unknown);
  });

  it('upcasts a recorded event keeping its id, position, stream and metadata', () => {
    const event = recorded('IdentityTraitsChanged', { ...address, set: { age: 18 }, removed: [] });
    const upcast = upcastRecordedAdminEvent(event);
    expect(upcast).not.toBe(event);
    expect({ ...upcast, data: undefined }).toEqual({ ...event, data: undefined });
    expect(upcast.data).toMatchObject({ schemaVersion: 2, floats: [] });
    const current = recorded('IdentityCreated', { ...address, schemaVersion: 2, createdAt: '2026-12-05T00:00:00.000Z', traits: { plan: 'pro' }, floats: [] });
    expect(upcastRecordedAdminEvent(current)).toBe(current);
  });
});
