import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdminApplication, type RequestContext } from '@flagline/admin-application';
import { DEFAULT_ENVIRONMENT_SETTINGS, identityIdFor, upcastRecordedAdminEvent, type AdminEvent } from '@flagline/admin-domain';
import { AdminCatalog } from '@flagline/admin-projections';
import { UpcastingEventStore, type EventMetadata, type JsonValue, type NewEvent } from '@flagline/event-sourcing';
import { EmbeddedEventStore } from '@flagline/event-store-embedded';
import { percentile } from '../scale/report';
import type { AuditRow } from './rows';

/**
 * asOf reads at random points of a large log: a log of `events` events (one project stream of
 * `projectEvents` feature events, 1,000 features created then toggled, the rest identities, one
 * event each, a twentieth of them changed once more), written to the embedded store with one
 * millisecond between appends; then, through the admin services as the API calls them, reads as
 * of uniformly random positions: the project's features (1,000 of them), an identity, and a time
 * mapped to its position. The first read of the project folds its stream once (snapshots are
 * taken on the way); every later one starts from a snapshot.
 */
export interface AsOfOptions {
  readonly events: number;
  readonly projectEvents: number;
  readonly reads: number;
}

const FEATURES = 1_000;
const START = Date.parse('2026-01-01T00:00:00.000Z');
const metadata: EventMetadata = { actor: { kind: 'system', id: 'bench' }, occurredAt: '2026-01-01T00:00:00.000Z', correlationId: 'audit-bench' };

export const event = (type: AdminEvent['type'], data: Record<string, unknown>): NewEvent => ({ id: randomUUID(), type, data: data as JsonValue, metadata });

/** Event number `index` of the bench project's stream: its features created, then toggled and given new values at random. */
export function projectEvent(index: number, next: () => number): NewEvent {
  if (index < FEATURES) {
    const featureId = 100 + index;
    return event('FeatureCreated', {
      projectId: 1,
      featureId,
      name: `feature_${index}`,
      description: '',
      type: 'STANDARD',
      defaultEnabled: false,
      initialValue: null,
      tagIds: [],
      isServerKeyOnly: false,
      options: [],
      createdAt: metadata.occurredAt,
      environmentStates: [{ environmentId: 10, featureStateId: 100_000 + index }],
    });
  }
  const feature = Math.floor(next() * FEATURES);
  return event('FeatureStateChanged', { projectId: 1, environmentId: 10, featureId: 100 + feature, featureStateId: 100_000 + feature, enabled: next() < 0.5, value: Math.floor(next() * 1000), allocations: [] });
}

export const identifierOf = (index: number): string => `user-${index}`;

export function identityEvents(index: number, changed: boolean): NewEvent {
  const identifier = identifierOf(index);
  const address = { identityId: identityIdFor(10, identifier), projectId: 1, environmentId: 10, identifier };
  return changed
    ? event('IdentityTraitsChanged', { ...address, set: { plan: 'pro' }, floats: [], removed: [] })
    : event('IdentityCreated', { ...address, schemaVersion: 2, createdAt: metadata.occurredAt, traits: { plan: 'free', age: index % 90 }, floats: [] });
}

/** A deterministic pseudo-random sequence (mulberry32). */
export function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function writeLog(store: EmbeddedEventStore, options: AsOfOptions, tick: () => void): Promise<{ identities: number }> {
  await store.appendToStream('organisation-1', [event('OrganisationCreated', { organisationId: 1, name: 'Bench', createdBy: null, createdAt: metadata.occurredAt })]);
  await store.appendToStream('project-1', [
    event('ProjectCreated', { projectId: 1, organisationId: 1, name: 'Bench', hideDisabledFlags: false, createdAt: metadata.occurredAt }),
    event('EnvironmentCreated', { projectId: 1, environmentId: 10, name: 'Production', description: '', apiKey: 'bench-client-key', settings: { ...DEFAULT_ENVIRONMENT_SETTINGS }, createdAt: metadata.occurredAt, featureStates: [] }),
  ]);
  const next = random(1);
  const every = Math.max(1, Math.floor(options.events / options.projectEvents));
  let written = 3;
  let project = 0;
  let identities = 0;
  // Appends in order, a few hundred in flight so they share the store's group commits.
  while (written < options.events) {
    const batch: Promise<unknown>[] = [];
    for (let slot = 0; slot < 256 && written < options.events; slot++, written++) {
      tick();
      if (written % every === 0 && project < options.projectEvents) batch.push(store.appendToStream('project-1', [projectEvent(project++, next)]));
      else if (identities > 20 && next() < 0.05) {
        const index = Math.floor(next() * (identities - 1));
        batch.push(store.appendToStream(`identity-${identityIdFor(10, identifierOf(index))}`, [identityEvents(index, true)]));
      } else {
        batch.push(store.appendToStream(`identity-${identityIdFor(10, identifierOf(identities))}`, [identityEvents(identities++, false)]));
      }
    }
    await Promise.all(batch);
  }
  return { identities };
}

/** Identities of a kept log: the IdentityCreated events are numbered from 0 in log order. */
async function identitiesIn(log: EmbeddedEventStore): Promise<number> {
  let count = 0;
  for (let after = 0; ; ) {
    const page = await log.readAll({ after, maxCount: 10_000 });
    count += page.filter((recorded) => recorded.type === 'IdentityCreated').length;
    const last = page.at(-1);
    if (!last) return count;
    after = last.globalPosition;
  }
}

function failKept(existing: number, wanted: number): never {
  throw new Error(`AUDIT_BENCH_DIR holds a log of ${existing} events, not ${wanted}: use another directory`);
}

const ms = (value: number): string => `${value.toFixed(2)} ms`;

/** Where the log is written; AUDIT_BENCH_DIR keeps it (and a later run with the same options reuses it). */
async function logDirectory(): Promise<{ directory: string; keep: boolean }> {
  const kept = process.env['AUDIT_BENCH_DIR'];
  if (kept) {
    await mkdir(kept, { recursive: true });
    return { directory: kept, keep: true };
  }
  return { directory: await mkdtemp(join(tmpdir(), 'flagline-audit-bench-')), keep: false };
}

export async function measureAsOf(options: AsOfOptions): Promise<AuditRow[]> {
  const { directory, keep } = await logDirectory();
  let now = START;
  const log = await EmbeddedEventStore.open({ directory, clock: () => new Date(now) });
  try {
    const writing = performance.now();
    const existing = await log.headPosition();
    // A kept log of the same size is reused: its identities are numbered 0.. in order, and its last event's time is the clock's.
    const { identities } =
      existing === options.events ? { identities: await identitiesIn(log) } : existing === 0 ? await writeLog(log, options, () => (now += 1)) : failKept(existing, options.events);
    if (existing === options.events) now = Date.parse((await log.readAll({ after: existing - 1, maxCount: 1 }))[0]?.recordedAt ?? '') || now;
    const head = await log.headPosition();
    process.stderr.write(`audit bench: ${existing === options.events ? 'reused' : 'wrote'} ${head.toLocaleString('en-US')} events in ${((performance.now() - writing) / 1000).toFixed(1)} s\n`);

    // The catalog as the app keeps it, without its identity rows (the reads measured fold identity
    // streams themselves): an identity event is applied under a stream name of no category, which
    // only moves the catalog's position, as a point waits for the catalog to have applied it.
    const catalog = new AdminCatalog();
    for (let after = 0; ; ) {
      const page = await log.readAll({ after, maxCount: 10_000 });
      for (const recorded of page) catalog.apply(recorded.streamName.startsWith('identity-') ? { ...recorded, streamName: 'bench-position' } : recorded);
      const last = page.at(-1);
      if (!last) break;
      after = last.globalPosition;
    }
    const app = new AdminApplication({ store: new UpcastingEventStore(log, upcastRecordedAdminEvent), catalog }, { adminApiKey: 'bench-admin-key-0000', adminEmail: 'bench@flagline.local' });
    const principal = { kind: 'organisation-key', organisationId: 1, role: 'admin', keyId: 'bench', name: 'bench' } as const;
    const request = (asOf: number): RequestContext => ({ principal, correlationId: 'bench', asOf });

    const next = random(7);
    const point = (): number => 1 + Math.floor(next() * head);
    // Wall time of each read, and the CPU time this process spent meanwhile: on a shared machine
    // the wall time's tail is mostly waiting for a CPU, which the CPU time leaves out.
    const cpu: number[] = [];
    const timed = async (read: () => Promise<unknown>): Promise<number> => {
      const started = performance.now();
      const used = process.cpuUsage();
      await read().catch((error: unknown) => {
        // Not found is an answer (an identity not yet created at the point); anything else is a failure.
        if (!(error instanceof Error) || !/NOT_FOUND|not found/i.test(`${(error as { code?: string }).code ?? ''} ${error.message}`)) throw error;
      });
      const spent = process.cpuUsage(used);
      cpu.push((spent.user + spent.system) / 1000);
      return performance.now() - started;
    };
    process.stderr.write(`audit bench: catalog at ${catalog.position.toLocaleString('en-US')}, reading\n`);
    const cold = await timed(() => app.features.list(request(head), 1));
    const project: number[] = [];
    const identity: number[] = [];
    const time: number[] = [];
    for (let read = 0; read < options.reads; read++) {
      project.push(await timed(() => app.features.list(request(point()), 1)));
      identity.push(await timed(() => app.identities.get(request(point()), '10', identifierOf(Math.floor(next() * identities)))));
      time.push(await timed(() => app.context.history.resolve({ time: new Date(START + Math.floor(next() * (now - START))).toISOString() })));
    }
    const all = [...project, ...identity, ...time];
    const diffStarted = performance.now();
    const whole = await app.diff.project({ principal, correlationId: 'bench' }, 1, '1', String(head));
    const diffMs = performance.now() - diffStarted;
    const row = (name: string, values: readonly number[]): AuditRow => ({
      name,
      value: `p50 ${ms(percentile(values, 0.5))}, p99 ${ms(percentile(values, 0.99))}, max ${ms(Math.max(...values))}`,
      target: 'p99 < 50 ms',
      met: percentile(values, 0.99) < 50,
    });
    return [
      { name: `Log: events (identity events, project events)`, value: `${head.toLocaleString('en-US')} (${(head - options.projectEvents - 3).toLocaleString('en-US')}, ${options.projectEvents.toLocaleString('en-US')})` },
      { name: 'asOf first read of the project (folds its stream once)', value: ms(cold) },
      row(`asOf features list (${FEATURES.toLocaleString('en-US')} features), ${options.reads} random points`, project),
      row(`asOf identity read, ${options.reads} random points`, identity),
      row(`asOf time -> position, ${options.reads} random times`, time),
      row('asOf, all reads', all),
      { name: 'asOf, all reads: CPU time of the process per read', value: `p50 ${ms(percentile(cpu, 0.5))}, p99 ${ms(percentile(cpu, 0.99))}, max ${ms(Math.max(...cpu))}` },
      { name: 'Load average (1 min) at the end, CPUs', value: `${loadavg()[0]?.toFixed(1) ?? '?'}, ${cpus().length}` },
      { name: 'Snapshots kept', value: String(app.context.history.snapshots.size) },
      { name: `Diff of the project's whole history (${whole.changes.length.toLocaleString('en-US')} changes)`, value: ms(diffMs) },
    ];
  } finally {
    await log.close();
    if (!keep) await rm(directory, { recursive: true, force: true });
  }
}
