import type { AdminEvent } from '@flagline/admin-domain';
import type { RecordedEvent } from '@flagline/event-sourcing';
import { auditKeysOf } from './audit-index';

const recorded = (type: string, data: Record<string, unknown>): RecordedEvent<AdminEvent> =>
  ({ id: `e-${type}`, type, data, metadata: { actor: { kind: 'user', id: '1', name: 'ada' }, occurredAt: '2026-01-01T00:00:00.000Z' }, streamName: 'project-3', streamRevision: 0, globalPosition: 1 }) as unknown as RecordedEvent<AdminEvent>;

describe('auditKeysOf', () => {
  it.each([
    ['an organisation event', recorded('OrganisationRenamed', { organisationId: 2, name: 'Acme' }), ['organisation:2']],
    ['a member added (the organisation, not the user)', recorded('OrganisationMemberAdded', { organisationId: 2, userId: 5, role: 'ADMIN' }), ['organisation:2']],
    ['a user event', recorded('UserApiKeyIssued', { userId: 5, keyId: 'k' }), ['user:5']],
    ['a project created (its organisation too)', recorded('ProjectCreated', { organisationId: 2, projectId: 3, name: 'p' }), ['organisation:2', 'project:3']],
    ['a project event naming its organisation', recorded('ProjectRenamed', { organisationId: 2, projectId: 3, name: 'q' }), ['project:3']],
    ['a feature created with tags, one repeated', recorded('FeatureCreated', { projectId: 3, featureId: 7, tagIds: [4, 9, 4] }), ['project:3', 'feature:7', 'tag:4', 'tag:9']],
    ['a tag change naming the tag', recorded('FeatureTagsChanged', { projectId: 3, featureId: 7, tagId: 4, tagIds: [4, 5] }), ['project:3', 'feature:7', 'tag:4', 'tag:5']],
    ['a state toggled in an environment', recorded('FeatureStateChanged', { projectId: 3, environmentId: 11, featureId: 7 }), ['project:3', 'environment:11', 'feature:7']],
    ['a clone (both environments)', recorded('EnvironmentCloned', { projectId: 3, environmentId: 12, sourceEnvironmentId: 11 }), ['project:3', 'environment:12', 'environment:11']],
    ['a reordering (its segments)', recorded('SegmentOverridesReordered', { projectId: 3, environmentId: 11, featureId: 7, segmentIds: [8, 6] }), ['project:3', 'environment:11', 'feature:7', 'segment:8', 'segment:6']],
    ['a segment override', recorded('SegmentOverrideCreated', { projectId: 3, environmentId: 11, featureId: 7, segmentId: 8 }), ['project:3', 'environment:11', 'feature:7', 'segment:8']],
    ['an identity event (the project only: its own history is its stream)', recorded('IdentityCreated', { identityId: 'abc', projectId: 3, environmentId: 11, identifier: 'ada' }), ['project:3']],
    ['ids that are not numbers', recorded('Something', { organisationId: '2', projectId: null, featureId: '7' }), []],
  ])('%s', (_name, event, keys) => {
    expect(auditKeysOf(event)).toEqual(keys);
  });
});
