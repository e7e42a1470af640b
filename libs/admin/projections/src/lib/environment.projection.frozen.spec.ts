import type { IdentityEvent, ProjectEvent } from '@flagline/admin-domain';
import { aFeatureCreated, anEnvironmentCreated, aProjectCreated } from '@flagline/admin-domain/testing';
import { deepFreeze, type EnvironmentDocument, type IdentityDocument, type ProjectDocument } from '@flagline/contracts';
import type { RecordedEvent } from '@flagline/event-sourcing';
import { applyToEnvironments } from './environment.projection';

const NOW = '2026-02-01T10:00:00.000Z';

/** Every object a value reaches, itself included. */
function objectsIn(value: unknown, out: object[] = []): object[] {
  if (typeof value !== 'object' || value === null) return out;
  out.push(value);
  for (const member of Object.values(value)) objectsIn(member, out);
  return out;
}

const recorded = (event: ProjectEvent, position: number): RecordedEvent<ProjectEvent> => ({
  ...event,
  id: `e${position}`,
  metadata: { actor: { kind: 'system', id: 'test' }, occurredAt: NOW, correlationId: 'c' },
  streamName: 'project-10',
  streamRevision: position - 1,
  globalPosition: position,
  recordedAt: NOW,
});

const featureCreated = (featureId: number): ProjectEvent =>
  aFeatureCreated({
    featureId,
    name: `flag_${featureId}`,
    type: 'MULTIVARIATE',
    initialValue: 'grey',
    options: [{ optionId: featureId + 500, value: 'red', key: 'red', defaultAllocation: 30 }],
    environmentStates: [{ environmentId: 20, featureStateId: featureId + 100 }],
  });

/**
 * The project and environment 20 after `events`, each output kept as a store keeps it: frozen
 * (`freeze`), or as read afresh from JSON, frozen nowhere.
 */
function project(events: ProjectEvent[], freeze: boolean): { project: ProjectDocument; environment: EnvironmentDocument } {
  let projectDocument: ProjectDocument | null = null;
  let environments = new Map<number, EnvironmentDocument>();
  const keep = <T>(document: T): T => (freeze ? deepFreeze(document) : (JSON.parse(JSON.stringify(document)) as T));
  events.forEach((event, index) => {
    const output = applyToEnvironments(recorded(event, index + 1), { project: projectDocument, environments, identity: null });
    if (output.project) projectDocument = keep(output.project);
    environments = new Map(environments);
    for (const [id, document] of output.environments) if (document) environments.set(id, keep(document));
  });
  const environment = environments.get(20);
  if (!projectDocument || !environment) throw new Error('no documents');
  return { project: projectDocument, environment };
}

const history: ProjectEvent[] = [
  aProjectCreated(),
  anEnvironmentCreated(),
  featureCreated(30),
  featureCreated(31),
];

describe('Environment projection over frozen documents', () => {
  const before = project(history, true);

  it('builds a new feature into frozen lists, the new feature frozen through and through, what it kept the same objects', () => {
    const output = applyToEnvironments(recorded(featureCreated(32), history.length + 1), { project: before.project, environments: new Map([[20, before.environment]]), identity: null });
    const environment = output.environments.get(20) as EnvironmentDocument;
    expect(Object.isFrozen(environment.features)).toBe(true);
    expect(Object.isFrozen(output.project?.features)).toBe(true);
    expect(objectsIn(environment.features).every((object) => Object.isFrozen(object))).toBe(true);
    expect(objectsIn(output.project?.features).every((object) => Object.isFrozen(object))).toBe(true);
    expect(environment.features.slice(0, 2)).toEqual(before.environment.features);
    environment.features.slice(0, 2).forEach((entry, index) => expect(entry).toBe(before.environment.features[index]));
    expect(environment.features.map(({ feature }) => feature.id)).toEqual([30, 31, 32]);
  });

  it('builds a toggle into a frozen list, the changed entry frozen', () => {
    const toggle: ProjectEvent = {
      type: 'FeatureStateChanged',
      data: { projectId: 10, environmentId: 20, featureId: 31, featureStateId: 131, enabled: true, value: 'blue', allocations: [{ optionId: 531, percentage: 10 }] },
    };
    const output = applyToEnvironments(recorded(toggle, history.length + 1), { project: before.project, environments: new Map([[20, before.environment]]), identity: null });
    const environment = output.environments.get(20) as EnvironmentDocument;
    expect(Object.isFrozen(environment.features)).toBe(true);
    expect(objectsIn(environment.features).every((object) => Object.isFrozen(object))).toBe(true);
    expect(environment.features[0]).toBe(before.environment.features[0]);
    expect(environment.features[1]?.state).toMatchObject({ enabled: true, value: 'blue', allocations: [{ optionId: 531, percentage: 10 }] });
  });

  it('freezes nothing in documents read afresh (parsed JSON, frozen nowhere), and gives the same documents', () => {
    const parsed = project(history, false);
    const output = applyToEnvironments(recorded(featureCreated(32), history.length + 1), { project: parsed.project, environments: new Map([[20, parsed.environment]]), identity: null });
    const environment = output.environments.get(20) as EnvironmentDocument;
    expect(objectsIn(environment).some((object) => Object.isFrozen(object))).toBe(false);
    const frozen = applyToEnvironments(recorded(featureCreated(32), history.length + 1), { project: before.project, environments: new Map([[20, before.environment]]), identity: null });
    expect(environment).toEqual(frozen.environments.get(20));
    expect(output.project).toEqual(frozen.project);
  });
});

describe('Environment projection of a toggle', () => {
  const toggle = (featureId: number): ProjectEvent => ({
    type: 'FeatureStateChanged',
    data: { projectId: 10, environmentId: 20, featureId, featureStateId: featureId + 100, enabled: true, value: 'on', allocations: [] },
  });
  const events = [...history, featureCreated(32), featureCreated(33), featureCreated(34)];

  it('changes the entry of its feature, wherever the feature is in the list, and no other', () => {
    const { project: projectDocument, environment } = project(events, false);
    const shuffled: EnvironmentDocument = { ...environment, features: [2, 0, 4, 1, 3].map((index) => environment.features[index] as EnvironmentDocument['features'][number]) };
    for (const featureId of [30, 31, 32, 33, 34]) {
      for (const document of [environment, shuffled]) {
        const output = applyToEnvironments(recorded(toggle(featureId), events.length + 1), { project: projectDocument, environments: new Map([[20, document]]), identity: null });
        const features = (output.environments.get(20) as EnvironmentDocument).features;
        expect(features.map(({ feature }) => feature.id)).toEqual(document.features.map(({ feature }) => feature.id));
        features.forEach((entry, index) => {
          if (entry.feature.id === featureId) expect(entry.state).toMatchObject({ enabled: true, value: 'on' });
          else expect(entry).toBe(document.features[index]);
        });
      }
    }
  });

  it('leaves the list as it is for a feature the environment does not have', () => {
    const { project: projectDocument, environment } = project(events, true);
    const output = applyToEnvironments(recorded(toggle(99), events.length + 1), { project: projectDocument, environments: new Map([[20, environment]]), identity: null });
    expect((output.environments.get(20) as EnvironmentDocument).features).toBe(environment.features);
  });
});

describe('Environment projection of an identity', () => {
  const environment = project(history, true).environment;
  const identityEvent = (event: IdentityEvent, position: number): RecordedEvent<IdentityEvent> => ({
    ...event,
    id: `i${position}`,
    metadata: { actor: { kind: 'system', id: 'test' }, occurredAt: NOW, correlationId: 'c' },
    streamName: 'identity-abc',
    streamRevision: position - 1,
    globalPosition: history.length + position,
    recordedAt: NOW,
  });
  // Out of order, with index-like names (which objects always list first), "__proto__", an accent and a capital.
  const traits = JSON.parse('{"b":1,"__proto__":"p","10":"ten","9":"nine","a":true,"é":2.5,"Z":"z"}') as Record<string, string | number | boolean>;
  const sortedText = '{"9":"nine","10":"ten","Z":"z","__proto__":"p","a":true,"b":1,"é":2.5}';
  const identityOf = (output: ReturnType<typeof applyToEnvironments>): IdentityDocument => {
    const document = output.identity?.document;
    if (!document) throw new Error('no identity document');
    return document;
  };

  it('keeps a created identity\'s traits in key order as own properties, "__proto__" one of them', () => {
    const created: IdentityEvent = {
      type: 'IdentityCreated',
      data: { identityId: 'abc', projectId: 10, environmentId: 20, identifier: 'ada', schemaVersion: 2, createdAt: NOW, traits, floats: [] },
    };
    const document = identityOf(applyToEnvironments(identityEvent(created, 1), { project: null, environments: new Map([[20, environment]]), identity: null }));
    expect(JSON.stringify(document.traits)).toBe(sortedText);
    expect(Object.getPrototypeOf(document.traits)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(document.traits, '__proto__')).toBe(true);

    const changed: IdentityEvent = {
      type: 'IdentityTraitsChanged',
      data: { identityId: 'abc', projectId: 10, environmentId: 20, identifier: 'ada', schemaVersion: 2, set: JSON.parse('{"__proto__":"q","B":0}') as Record<string, string | number | boolean>, floats: [], removed: ['9'] },
    };
    const after = identityOf(applyToEnvironments(identityEvent(changed, 2), { project: null, environments: new Map([[20, environment]]), identity: document }));
    expect(JSON.stringify(after.traits)).toBe('{"10":"ten","B":0,"Z":"z","__proto__":"q","a":true,"b":1,"é":2.5}');
  });
});
