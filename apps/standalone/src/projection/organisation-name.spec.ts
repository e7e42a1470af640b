import { organisationDecider, projectDecider, toOrganisationStreamName, toProjectStreamName, type OrganisationCommand, type ProjectCommand } from '@flagline/admin-domain';
import { EnvironmentProjector } from '@flagline/admin-projections';
import { readModelKeys, type EnvironmentDocument, type ReadModelChange } from '@flagline/contracts';
import { toFlagsmithEnvironmentDocument } from '@flagline/evaluation-application';
import { CommandHandler, InMemoryEventStore, type RecordedEvent } from '@flagline/event-sourcing';
import { InMemoryReadModelStore } from '@flagline/read-model';
import { commandContext } from '../testing/command-context';

const context = commandContext;

/** Acme with two projects (three environments), another organisation's project, then Acme renamed twice. */
async function recordHistory(): Promise<readonly RecordedEvent[]> {
  const store = new InMemoryEventStore();
  const organisations = new CommandHandler(store, organisationDecider);
  const projects = new CommandHandler(store, projectDecider);
  const organisation = (id: number, command: OrganisationCommand) => organisations.handle(toOrganisationStreamName(id), command, context());
  const project = (id: number, command: ProjectCommand) => projects.handle(toProjectStreamName(id), command, context());
  const now = '2026-01-01T00:00:00.000Z';
  const environment = (environmentId: number) =>
    ({ type: 'CreateEnvironment', environmentId, name: `env ${environmentId}`, description: '', apiKey: `key-${environmentId}`, settings: {}, featureStateIds: [], now }) as const;

  await organisation(1, { type: 'CreateOrganisation', organisationId: 1, name: 'Acme', createdBy: null, now });
  await organisation(2, { type: 'CreateOrganisation', organisationId: 2, name: 'Globex', createdBy: null, now });
  await project(10, { type: 'CreateProject', projectId: 10, organisationId: 1, name: 'Web', hideDisabledFlags: false, now });
  await project(10, environment(20));
  await project(10, environment(21));
  await project(11, { type: 'CreateProject', projectId: 11, organisationId: 1, name: 'Mobile', hideDisabledFlags: false, now });
  await project(11, environment(22));
  await project(12, { type: 'CreateProject', projectId: 12, organisationId: 2, name: 'Other', hideDisabledFlags: false, now });
  await project(12, environment(23));
  await organisation(1, { type: 'RenameOrganisation', name: 'Acme Corp' });
  await project(10, { type: 'ChangeProjectSettings', hideDisabledFlags: true });
  await organisation(1, { type: 'RenameOrganisation', name: 'Acme Inc' });
  return store.readAll();
}

async function project(events: readonly RecordedEvent[], into = new InMemoryReadModelStore()): Promise<InMemoryReadModelStore> {
  const projector = new EnvironmentProjector(into);
  for (const event of events) await projector.handle(event);
  return into;
}

async function organisationNames(store: InMemoryReadModelStore): Promise<Record<number, string | undefined>> {
  const names: Record<number, string | undefined> = {};
  for (const id of [20, 21, 22, 23]) names[id] = (await store.get<EnvironmentDocument>(readModelKeys.environment(id)))?.project.organisationName;
  return names;
}

describe('Environment documents carry their organisation’s name', () => {
  let log: readonly RecordedEvent[];

  beforeAll(async () => {
    log = await recordHistory();
  });

  it('given the log in order, then every environment names its organisation as last renamed, and Flagsmith’s document shows it', async () => {
    const store = await project(log);
    expect(await organisationNames(store)).toEqual({ 20: 'Acme Inc', 21: 'Acme Inc', 22: 'Acme Inc', 23: 'Globex' });
    const document = await store.get<EnvironmentDocument>(readModelKeys.environment(20));
    expect(toFlagsmithEnvironmentDocument(document as EnvironmentDocument)).toMatchObject({ project: { organisation: { id: 1, name: 'Acme Inc' } } });
  });

  it('given a rename, then each of the organisation’s environments gets a new revision and a change notification, and no other', async () => {
    const renameAt = log.findIndex((event) => event.type === 'OrganisationRenamed');
    const store = await project(log.slice(0, renameAt));
    const before = await store.get<EnvironmentDocument>(readModelKeys.environment(21));
    const changes: ReadModelChange[] = [];
    const unsubscribe = store.subscribe((change) => changes.push(change));
    await project([log[renameAt] as RecordedEvent], store);
    unsubscribe();
    const after = await store.get<EnvironmentDocument>(readModelKeys.environment(21));
    expect(after?.project.organisationName).toBe('Acme Corp');
    expect(after?.revision).toBe((before?.revision ?? 0) + 1);
    expect(changes.flatMap((change) => change.environmentIds).sort()).toEqual([20, 21, 22]);
    expect((await store.get<EnvironmentDocument>(readModelKeys.environment(23)))?.project.organisationName).toBe('Globex');
  });

  it('given the organisation’s events delivered before, after or amid its projects’ (separate partitions), then every document is the same as in log order', async () => {
    const isOrganisation = (event: RecordedEvent) => event.streamName.startsWith('organisation-');
    const organisationEvents = log.filter(isOrganisation);
    const projectEvents = log.filter((event) => !isOrganisation(event));
    const inOrder = JSON.stringify((await project(log)).dump());
    const deliveries = [
      [...organisationEvents, ...projectEvents],
      [...projectEvents, ...organisationEvents],
      // Each organisation event three places later than in the log.
      [...log].sort((a, b) => a.globalPosition + (isOrganisation(a) ? 3.5 : 0) - (b.globalPosition + (isOrganisation(b) ? 3.5 : 0))),
    ];
    for (const delivery of deliveries) {
      const store = await project(delivery);
      expect(await organisationNames(store)).toEqual({ 20: 'Acme Inc', 21: 'Acme Inc', 22: 'Acme Inc', 23: 'Globex' });
      expect(JSON.stringify(store.dump())).toBe(inOrder);
    }
  });

  it('given every event twice, or a replay over the live result, then nothing changes', async () => {
    const live = await project(log);
    expect(JSON.stringify((await project(log.flatMap((event) => [event, event]))).dump())).toBe(JSON.stringify(live.dump()));
    const before = JSON.stringify(live.dump());
    const projector = new EnvironmentProjector(live);
    const outcomes = [];
    for (const event of log) outcomes.push(await projector.handle(event));
    expect(outcomes.filter((outcome) => outcome === 'applied')).toEqual([]);
    expect(JSON.stringify(live.dump())).toBe(before);
  });
});
