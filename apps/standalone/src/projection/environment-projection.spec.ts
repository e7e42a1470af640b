import {
  identityDecider,
  identityIdFor,
  projectDecider,
  toIdentityStreamName,
  toProjectStreamName,
  type IdentityCommand,
  type ProjectCommand,
} from '@flagline/admin-domain';
import { readModelKeys, type EnvironmentDocument, type IdentityDocument } from '@flagline/contracts';
import { CommandHandler, InMemoryEventStore, type RecordedEvent } from '@flagline/event-sourcing';
import { InMemoryReadModelStore } from '@flagline/read-model';
import { commandContext } from '../testing/command-context';
import { EnvironmentProjector } from '@flagline/admin-projections';
import { FloatNumber } from '@flagline/python-compat';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const context = commandContext;

/** A project's life through the real deciders: environments, features, options, segments, overrides, identities, clones, deletions. */
async function recordHistory(store: InMemoryEventStore): Promise<void> {
  const projects = new CommandHandler(store, projectDecider);
  const identities = new CommandHandler(store, identityDecider);
  const project = (command: ProjectCommand) => projects.handle(toProjectStreamName(10), command, context());
  const identity = (environmentId: number, identifier: string, command: IdentityCommand) =>
    identities.handle(toIdentityStreamName(identityIdFor(environmentId, identifier)), command, context());
  const now = '2026-01-01T00:00:00.000Z';

  await project({ type: 'CreateProject', projectId: 10, organisationId: 1, name: 'Web', hideDisabledFlags: false, now });
  await project({ type: 'CreateEnvironment', environmentId: 20, name: 'Development', description: '', apiKey: 'dev-key', settings: {}, featureStateIds: [], now });
  await project({ type: 'CreateEnvironment', environmentId: 21, name: 'Production', description: '', apiKey: 'prod-key', settings: {}, featureStateIds: [], now });
  await project({
    type: 'CreateFeature',
    featureId: 30,
    name: 'checkout',
    description: 'new checkout',
    featureType: 'MULTIVARIATE',
    defaultEnabled: true,
    initialValue: 'control',
    tagIds: [],
    isServerKeyOnly: false,
    options: [
      { optionId: 31, value: 'one_page', key: 'one_page', defaultAllocation: 30 },
      { optionId: 32, value: 'two_step', key: 'two_step', defaultAllocation: 20 },
    ],
    featureStateIds: [33, 34],
    now,
  });
  await project({ type: 'CreateFeature', featureId: 40, name: 'banner', description: '', featureType: 'STANDARD', defaultEnabled: false, initialValue: 7, tagIds: [], isServerKeyOnly: true, options: [], featureStateIds: [41, 42], now });
  const rules = (value: string) => [{ type: 'ALL' as const, rules: [], conditions: [{ property: 'plan', operator: 'EQUAL' as const, value }] }];
  await project({ type: 'CreateSegment', segmentId: 50, name: 'pro', description: '', rules: rules('pro'), now });
  await project({ type: 'CreateSegment', segmentId: 51, name: 'team', description: '', rules: rules('team'), now });
  await project({ type: 'CreateSegmentOverride', environmentId: 21, featureId: 40, segmentId: 50, featureStateId: 52, enabled: true, value: 'pro-banner' });
  await project({ type: 'CreateSegmentOverride', environmentId: 21, featureId: 40, segmentId: 51, featureStateId: 53, enabled: true, value: 'team-banner', priority: 0 });
  await project({ type: 'ReorderSegmentOverrides', environmentId: 21, featureId: 40, segmentIds: [50, 51] });
  await project({ type: 'ChangeFeatureState', environmentId: 21, featureId: 30, allocations: [{ optionId: 31, percentage: 50 }, { optionId: 32, percentage: 50 }] });
  await project({ type: 'ChangeSegment', segmentId: 50, rules: rules('enterprise'), name: 'paying' });
  await project({ type: 'IssueServerKey', environmentId: 21, keyId: 'key_1', name: 'backend', keyHash: 'f'.repeat(64), prefix: 'ser.abc', createdAt: now });
  await project({ type: 'AddMultivariateOption', featureId: 30, option: { optionId: 35, value: 'wizard', key: null, defaultAllocation: 0 } });
  await project({ type: 'RemoveMultivariateOption', featureId: 30, optionId: 32 });
  await project({ type: 'CloneEnvironment', sourceEnvironmentId: 21, environmentId: 22, name: 'Staging', apiKey: 'staging-key', featureStateIds: [60, 61, 62, 63], now });
  const address = (environmentId: number, identifier: string) => ({ identityId: identityIdFor(environmentId, identifier), projectId: 10, environmentId, identifier });
  await identity(21, 'ada', { type: 'CreateIdentity', ...address(21, 'ada'), traits: { plan: 'pro', age: 36 }, now });
  await identity(21, 'ada', { type: 'SetIdentityOverride', featureId: 40, featureStateUuid: '00000000-0000-4000-a000-000000000001', enabled: true, value: 'ada-banner', allocations: [] });
  await identity(21, 'ada', { type: 'UpdateTraits', traits: { age: null, team: 'core' } });
  await identity(22, 'grace', { type: 'RecordIdentity', ...address(22, 'grace'), traits: { plan: 'team' }, now });
  // Traits written 5.0, 18.0 and 2.0 are floats; a later int or removal ends that.
  await identity(22, 'grace', { type: 'UpdateTraits', traits: { score: new FloatNumber(5), age: new FloatNumber(18), ratio: new FloatNumber(2) } });
  await identity(22, 'grace', { type: 'UpdateTraits', traits: { age: 19, ratio: null } });
  await identity(20, 'linus', { type: 'RecordIdentity', ...address(20, 'linus'), traits: {}, now });
  await project({ type: 'DeleteSegment', segmentId: 51 });
  await project({ type: 'RevokeServerKey', environmentId: 21, keyId: 'key_1', now });
  await project({ type: 'DeleteEnvironment', environmentId: 20 });
  await project({ type: 'ChangeFeature', featureId: 40, name: 'hero_banner', isArchived: true });
}

async function project(events: readonly RecordedEvent[], into: InMemoryReadModelStore): Promise<void> {
  const projector = new EnvironmentProjector(into);
  for (const event of events) await projector.handle(event);
}

describe('EnvironmentProjector', () => {
  let log: readonly RecordedEvent[];
  let live: InMemoryReadModelStore;

  beforeAll(async () => {
    const store = new InMemoryEventStore();
    live = new InMemoryReadModelStore();
    const projector = new EnvironmentProjector(live);
    // Live: each event projected as it is committed, through a subscription.
    const subscription = store.subscribeToAll({}, (event) => projector.handle(event).then(() => undefined));
    await recordHistory(store);
    log = await store.readAll();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await subscription.stop();
  });

  it('builds one read model per live environment, with the project state applied', async () => {
    const production = await live.get<EnvironmentDocument>(readModelKeys.environment(21));
    expect(await live.get(readModelKeys.environment(20))).toBeNull();
    expect(production?.features.map(({ feature }) => feature.name)).toEqual(['checkout', 'hero_banner']);
    expect(production?.features[0]?.state.allocations).toEqual([{ optionId: 31, percentage: 50 }, { optionId: 35, percentage: 0 }]);
    expect(production?.features[1]?.feature.isArchived).toBe(true);
    expect(production?.segments.map((segment) => [segment.name, segment.overrides.map((override) => override.priority)])).toEqual([['paying', [0]]]);
    expect(production?.serverKeys).toEqual([]);
    expect(production?.identityOverrides.map((entry) => entry.identifier)).toEqual(['ada']);
    const staging = await live.get<EnvironmentDocument>(readModelKeys.environment(22));
    expect(staging?.segments.map((segment) => segment.overrides.length)).toEqual([1]);
    const ada = await live.get<IdentityDocument>(readModelKeys.identity(21, 'ada'));
    expect(ada?.traits).toEqual({ plan: 'pro', team: 'core' });
    expect(ada?.floats).toBeUndefined();
    const grace = await live.get<IdentityDocument>(readModelKeys.identity(22, 'grace'));
    expect(grace?.traits).toEqual({ age: 19, plan: 'team', score: 5 });
    expect(grace?.floats).toEqual(['score']);
    expect(await live.keysWithPrefix(readModelKeys.identityPrefix(20))).toEqual([]);
  });

  it('writes the documents byte for byte as the projection did when it re-rendered them whole', () => {
    // environment-projection.documents.json: this history's documents from the projection before
    // documents shared their unchanged parts (commit 71022cc), as the in-memory store dumps them;
    // identities created with their traits in one event since, so their documents' revisions are one lower.
    const expected = readFileSync(join(__dirname, 'environment-projection.documents.json'), 'utf8');
    expect(JSON.stringify(live.dump(), null, 1)).toBe(expected);
  });

  it('reads no project document for identity events, an environment document only when it may change, and no identity document for a new identity', async () => {
    const history = new InMemoryEventStore();
    await recordHistory(history);
    const events = await history.readAll();
    const store = new InMemoryReadModelStore();
    const reads: string[] = [];
    const read = <T>(keys: readonly string[], answer: Promise<T>): Promise<T> => {
      reads.push(...keys);
      return answer;
    };
    const recording = Object.assign(Object.create(store) as InMemoryReadModelStore, {
      get: <T>(key: string) => read([key], store.get<T>(key)),
      getMany: <T>(keys: readonly string[]) => read(keys, store.getMany<T>(keys)),
    });
    const projector = new EnvironmentProjector(recording);
    const readsPerEvent: [string, string[]][] = [];
    for (const event of events) {
      reads.length = 0;
      await projector.handle(event);
      if (event.type.startsWith('Identity')) readsPerEvent.push([event.type, [...reads]]);
    }
    // A new identity's stream starts at revision 0: its document cannot exist yet, so it is not read.
    expect(readsPerEvent).toEqual([
      ['IdentityCreated', ['environment:21']],
      ['IdentityOverrideSet', ['identity:21:ada', 'environment:21', 'organisation:1']],
      ['IdentityTraitsChanged', ['identity:21:ada']],
      ['IdentityCreated', ['environment:22']],
      ['IdentityTraitsChanged', ['identity:22:grace']],
      ['IdentityTraitsChanged', ['identity:22:grace']],
      ['IdentityCreated', ['environment:20']],
    ]);
    const plain = new InMemoryReadModelStore();
    await project(events, plain);
    expect(JSON.stringify(store.dump())).toBe(JSON.stringify(plain.dump()));
  });

  it('rebuilds from the log to exactly the live result', async () => {
    const rebuilt = new InMemoryReadModelStore();
    await project(log, rebuilt);
    expect(JSON.stringify(rebuilt.dump())).toBe(JSON.stringify(live.dump()));
  });

  it('ignores events applied twice or out of date', async () => {
    const before = JSON.stringify(live.dump());
    const projector = new EnvironmentProjector(live);
    const outcomes = [];
    for (const event of [...log].reverse()) outcomes.push(await projector.handle(event));
    for (const event of log) outcomes.push(await projector.handle(event));
    expect(outcomes.filter((outcome) => outcome === 'applied')).toEqual([]);
    expect(JSON.stringify(live.dump())).toBe(before);
  });

  it('gives the same result when every event is delivered twice in a row', async () => {
    const doubled = new InMemoryReadModelStore();
    await project(log.flatMap((event) => [event, event]), doubled);
    expect(JSON.stringify(doubled.dump())).toBe(JSON.stringify(live.dump()));
  });
});
