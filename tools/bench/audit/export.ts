import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdminApplication } from '@flagline/admin-application';
import { createAdminHttpApp } from '@flagline/admin-api';
import { DEFAULT_ENVIRONMENT_SETTINGS, identityIdFor, upcastRecordedAdminEvent } from '@flagline/admin-domain';
import { AdminCatalog } from '@flagline/admin-projections';
import { UpcastingEventStore, type EventMetadata, type JsonValue, type NewEvent } from '@flagline/event-sourcing';
import { EmbeddedEventStore } from '@flagline/event-store-embedded';
import type { AuditRow } from './rows';

/**
 * The export's rate and memory on a large log: `events` events written to the embedded store
 * (an organisation, a project with an environment, then identities created with five traits, one
 * event each, as SDK identify writes them), then `GET /admin/v1/events/export` of the whole log
 * as NDJSON and as CSV through the admin HTTP app, read by a client that counts and drops what
 * it receives. RSS and heap are sampled every 50 ms during each export.
 *
 *   node -r @swc-node/register tools/bench/audit/export.ts [events]
 */
export interface ExportBenchOptions {
  readonly events: number;
}

const ADMIN_KEY = 'export-bench-admin-key-0123456789';
const metadata: EventMetadata = { actor: { kind: 'environment-key', id: 'bench', name: 'server-side key' }, occurredAt: '2026-01-01T00:00:00.000Z', correlationId: 'export-bench', organisationId: '1', projectId: '2' };

const created = (type: string, data: Record<string, unknown>): NewEvent => ({ id: randomUUID(), type, data: data as JsonValue, metadata });

async function writeLog(store: EmbeddedEventStore, events: number): Promise<void> {
  await store.appendToStream('organisation-1', [created('OrganisationCreated', { organisationId: 1, name: 'Bench', createdBy: null, createdAt: metadata.occurredAt })]);
  await store.appendToStream('project-2', [
    created('ProjectCreated', { projectId: 2, organisationId: 1, name: 'Bench', hideDisabledFlags: false, createdAt: metadata.occurredAt }),
    created('EnvironmentCreated', { projectId: 2, environmentId: 3, name: 'Production', description: '', apiKey: 'bench-client-key', settings: { ...DEFAULT_ENVIRONMENT_SETTINGS }, createdAt: metadata.occurredAt, featureStates: [] }),
  ]);
  for (let written = 3; written < events; ) {
    const appends: Promise<unknown>[] = [];
    for (let slot = 0; slot < 512 && written < events; slot++, written++) {
      const identifier = `visitor-${written}`;
      const identityId = identityIdFor(3, identifier);
      const traits = { plan: written % 3 === 0 ? 'pro' : 'free', age: written % 90, country: 'fr', beta: written % 2 === 0, app_version: '2.3.0' };
      const data = { identityId, projectId: 2, environmentId: 3, identifier, schemaVersion: 2, createdAt: metadata.occurredAt, traits, floats: [] };
      appends.push(store.appendToStream(`identity-${identityId}`, [created('IdentityCreated', data)], { expectedRevision: 'no_stream', freshIds: true }));
    }
    await Promise.all(appends);
  }
}

interface Sampled {
  readonly lines: number;
  readonly bytes: number;
  readonly seconds: number;
  /** CPU time of the process (server and client), which the other load of a shared machine changes least. */
  readonly cpuSeconds: number;
  readonly peakRssMb: number;
  readonly peakHeapMb: number;
}

const mb = (bytes: number): number => bytes / 1024 / 1024;

/** Streams one export, counting its lines and bytes while sampling memory. */
async function exportOnce(url: string, format: 'ndjson' | 'csv'): Promise<Sampled> {
  let peakRss = process.memoryUsage().rss;
  let peakHeap = process.memoryUsage().heapUsed;
  const sampler = setInterval(() => {
    const usage = process.memoryUsage();
    peakRss = Math.max(peakRss, usage.rss);
    peakHeap = Math.max(peakHeap, usage.heapUsed);
  }, 50);
  const started = performance.now();
  const cpu = process.cpuUsage();
  try {
    const response = await fetch(`${url}/admin/v1/events/export?format=${format}`, { headers: { Authorization: `Api-Key ${ADMIN_KEY}` } });
    if (response.status !== 200 || !response.body) throw new Error(`export: HTTP ${response.status} ${await response.text()}`);
    let lines = 0;
    let bytes = 0;
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.length;
      for (let index = chunk.indexOf(0x0a); index >= 0; index = chunk.indexOf(0x0a, index + 1)) lines++;
    }
    const used = process.cpuUsage(cpu);
    return { lines, bytes, seconds: (performance.now() - started) / 1000, cpuSeconds: (used.user + used.system) / 1e6, peakRssMb: mb(peakRss), peakHeapMb: mb(peakHeap) };
  } finally {
    clearInterval(sampler);
  }
}

export async function measureExport(options: ExportBenchOptions): Promise<AuditRow[]> {
  const directory = await mkdtemp(join(tmpdir(), 'flagline-export-bench-'));
  const log = await EmbeddedEventStore.open({ directory });
  try {
    const writing = performance.now();
    await writeLog(log, options.events);
    const head = await log.headPosition();
    process.stderr.write(`export bench: wrote ${head.toLocaleString('en-US')} events in ${((performance.now() - writing) / 1000).toFixed(1)} s\n`);
    // The administrator's export needs the catalog only to know the administrator (the bootstrap's user).
    const store = new UpcastingEventStore(log, upcastRecordedAdminEvent);
    const catalog = new AdminCatalog();
    const feed = store.subscribeToAll({ after: head }, (event) => catalog.apply(event));
    const app = new AdminApplication({ store, storedLog: log, catalog }, { adminApiKey: ADMIN_KEY, adminEmail: 'bench@flagline.local' });
    await app.auth.bootstrap();
    const exported = await log.headPosition();
    const nest = await createAdminHttpApp(app, { health: () => ({}) });
    await nest.listen(0, '127.0.0.1');
    const url = `http://127.0.0.1:${((nest.getHttpServer() as Server).address() as AddressInfo).port}`;
    try {
      global.gc?.();
      const before = mb(process.memoryUsage().rss);
      const rows: AuditRow[] = [{ name: 'Export: log size', value: `${exported.toLocaleString('en-US')} events; RSS before exporting ${before.toFixed(0)} MB` }];
      for (const format of ['ndjson', 'csv'] as const) {
        const run = await exportOnce(url, format);
        const expected = format === 'csv' ? exported + 1 : exported;
        if (run.lines !== expected) throw new Error(`${format} export: ${run.lines} lines, expected ${expected}`);
        rows.push({
          name: `Export ${format.toUpperCase()}, whole log over HTTP (server and client in one process)`,
          value: `${Math.round(exported / run.seconds).toLocaleString('en-US')} events/s (${Math.round(exported / run.cpuSeconds).toLocaleString('en-US')} per CPU-second), ${(mb(run.bytes) / run.seconds).toFixed(0)} MB/s (${mb(run.bytes).toFixed(0)} MB in ${run.seconds.toFixed(1)} s); peak RSS ${run.peakRssMb.toFixed(0)} MB, peak heap ${run.peakHeapMb.toFixed(0)} MB`,
          target: 'memory bounded (not growing with the log)',
          met: run.peakRssMb - before < 200,
        });
      }
      return rows;
    } finally {
      await nest.close();
      await feed.stop();
    }
  } finally {
    await log.close();
    await rm(directory, { recursive: true, force: true });
  }
}

if (require.main === module) {
  void (async () => {
    const { renderRows } = await import('./rows');
    const rows = await measureExport({ events: Number(process.argv[2] ?? process.env['AUDIT_BENCH_EVENTS'] ?? 1_000_000) });
    process.stdout.write(`${renderRows(rows)}\n`);
  })().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  });
}
