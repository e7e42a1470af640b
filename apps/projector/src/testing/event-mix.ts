import {
  identityDecider,
  identityIdFor,
  projectDecider,
  toIdentityStreamName,
  toProjectStreamName,
  type IdentityCommand,
  type ProjectCommand,
} from '@flagline/admin-domain';
import { CommandHandler, InMemoryEventStore, type CommandContext, type RecordedEvent } from '@flagline/event-sourcing';

export interface EventMixOptions {
  /** Projects the identities are spread over (round robin); each has two environments. */
  readonly projects: number;
  readonly featuresPerProject: number;
  /** Identities recorded; the history holds about 1.4 events per identity. */
  readonly identities: number;
}

const PLANS = ['free', 'pro', 'enterprise', 'team'];
const NOW = '2026-01-01T00:00:00.000Z';

/**
 * A realistic history for the projector, made by the real deciders: per project two
 * environments, features, segments and a segment override; then identities with five traits,
 * a quarter of them updating their traits, one in ten with an identity override, one in
 * twenty-five followed by a feature toggle (project events amid identity events), one in fifty
 * updating an earlier identity again, and one in two hundred deleting one.
 */
export async function recordEventMix(options: EventMixOptions): Promise<RecordedEvent[]> {
  const store = new InMemoryEventStore();
  let commands = 0;
  const context = (): CommandContext => ({
    commandId: `mix-${++commands}`,
    actor: { kind: 'user', id: '1', name: 'bench@example.com' },
    now: new Date(Date.UTC(2026, 0, 1) + commands),
    correlationId: `mix-${commands}`,
  });
  const projects = new CommandHandler(store, projectDecider);
  const identities = new CommandHandler(store, identityDecider);
  const project = (projectId: number, command: ProjectCommand) => projects.handle(toProjectStreamName(projectId), command, context());
  const identity = (environmentId: number, identifier: string, command: IdentityCommand) =>
    identities.handle(toIdentityStreamName(identityIdFor(environmentId, identifier)), command, context());
  const ids = (projectId: number) => {
    const base = projectId * 100_000;
    return { environments: [base + 1, base + 2], feature: (index: number) => base + 1000 + index * 10, segment: base + 90_000 };
  };

  for (let p = 1; p <= options.projects; p++) {
    const { environments, feature, segment } = ids(p);
    await project(p, { type: 'CreateProject', projectId: p, organisationId: 1, name: `project ${p}`, hideDisabledFlags: false, now: NOW });
    for (const [index, environmentId] of environments.entries()) {
      await project(p, { type: 'CreateEnvironment', environmentId, name: `env ${index}`, description: '', apiKey: `key-${environmentId}`, settings: {}, featureStateIds: [], now: NOW });
    }
    for (let f = 0; f < options.featuresPerProject; f++) {
      const featureId = feature(f);
      await project(p, {
        type: 'CreateFeature', featureId, name: `feature_${f}`, description: '', featureType: 'STANDARD', defaultEnabled: f % 2 === 0,
        initialValue: f, tagIds: [], isServerKeyOnly: false, options: [], featureStateIds: [featureId + 1, featureId + 2], now: NOW,
      });
    }
    const rules = [{ type: 'ALL' as const, rules: [], conditions: [{ property: 'plan', operator: 'EQUAL' as const, value: 'pro' }] }];
    await project(p, { type: 'CreateSegment', segmentId: segment, name: 'pro', description: '', rules, now: NOW });
    await project(p, { type: 'CreateSegmentOverride', environmentId: environments[1] as number, featureId: feature(0), segmentId: segment, featureStateId: segment + 1, enabled: true, value: 'pro' });
  }

  const where = (index: number) => {
    const projectId = 1 + (index % options.projects);
    const { environments, feature } = ids(projectId);
    return { projectId, environmentId: environments[index % 2] as number, identifier: `user-${index}`, feature };
  };
  const toggles = new Map<string, boolean>();
  for (let i = 0; i < options.identities; i++) {
    const { projectId, environmentId, identifier, feature } = where(i);
    const traits = { plan: PLANS[i % PLANS.length] as string, seats: 1 + (i % 40), region: `r${i % 5}`, version: `${1 + (i % 4)}.${i % 12}.0`, beta: i % 3 === 0 };
    await identity(environmentId, identifier, { type: 'RecordIdentity', identityId: identityIdFor(environmentId, identifier), projectId, environmentId, identifier, traits, now: NOW });
    if (i % 4 === 1) await identity(environmentId, identifier, { type: 'UpdateTraits', traits: { seats: 2 + (i % 40), region: null } });
    if (i % 10 === 3) {
      const featureId = feature(i % options.featuresPerProject);
      await identity(environmentId, identifier, { type: 'SetIdentityOverride', featureId, featureStateUuid: `00000000-0000-4000-a000-${String(i).padStart(12, '0')}`, enabled: true, value: `for ${identifier}`, allocations: [] });
    }
    if (i % 25 === 7) {
      const featureId = feature(i % options.featuresPerProject);
      const key = `${environmentId}:${featureId}`;
      const enabled = !(toggles.get(key) ?? featureId % 20 === 0);
      toggles.set(key, enabled);
      await project(projectId, { type: 'ChangeFeatureState', environmentId, featureId, enabled });
    }
    if (i % 50 === 9 && i >= 100) {
      const earlier = where(i - 100);
      await identity(earlier.environmentId, earlier.identifier, { type: 'UpdateTraits', traits: { plan: 'enterprise' } });
    }
    if (i % 200 === 11 && i >= 200) {
      const gone = where(i - 200);
      await identity(gone.environmentId, gone.identifier, { type: 'DeleteIdentity' });
    }
  }
  return [...(await store.readAll())];
}
