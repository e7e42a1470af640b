import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdminApplication, type RequestContext } from '@flagline/admin-application';
import { DEFAULT_ENVIRONMENT_SETTINGS, identityIdFor, upcastRecordedAdminEvent } from '@flagline/admin-domain';
import { AdminCatalog } from '@flagline/admin-projections';
import { UpcastingEventStore } from '@flagline/event-sourcing';
import { EmbeddedEventStore } from '@flagline/event-store-embedded';
import { EvaluationExplainer } from '@flagline/evaluation-application';
import { percentile } from '../scale/report';
import { event, identifierOf, identityEvents, projectEvent, random } from './as-of';
import type { AuditRow } from './rows';

/**
 * Explained evaluation as of random points of a large project: one project stream of
 * `projectEvents` events (1,000 features created, then toggled and given new values at random)
 * and an identity, written to the embedded store; then `POST …/evaluate` through the admin service
 * as the API calls it, for the identity, as of uniformly random positions. The first explanation
 * folds the project's stream once (snapshots every 128 events are kept on the way); every later
 * one starts from the latest snapshot at or before its point.
 *
 *   node -r @swc-node/register tools/bench/audit/explain.ts [projectEvents] [reads]
 */
export interface ExplainBenchOptions {
  readonly projectEvents: number;
  readonly reads: number;
}

const ms = (value: number): string => `${value.toFixed(2)} ms`;

export async function measureExplain(options: ExplainBenchOptions): Promise<AuditRow[]> {
  const directory = await mkdtemp(join(tmpdir(), 'flagline-explain-bench-'));
  const log = await EmbeddedEventStore.open({ directory });
  try {
    await log.appendToStream('organisation-1', [event('OrganisationCreated', { organisationId: 1, name: 'Bench', createdBy: null, createdAt: '2026-01-01T00:00:00.000Z' })]);
    await log.appendToStream('project-1', [
      event('ProjectCreated', { projectId: 1, organisationId: 1, name: 'Bench', hideDisabledFlags: false, createdAt: '2026-01-01T00:00:00.000Z' }),
      event('EnvironmentCreated', { projectId: 1, environmentId: 10, name: 'Production', description: '', apiKey: 'bench-client-key', settings: { ...DEFAULT_ENVIRONMENT_SETTINGS }, createdAt: '2026-01-01T00:00:00.000Z', featureStates: [] }),
    ]);
    await log.appendToStream(`identity-${identityIdFor(10, identifierOf(0))}`, [identityEvents(0, false)]);
    const next = random(3);
    for (let written = 0; written < options.projectEvents; ) {
      const batch = [];
      for (let slot = 0; slot < 256 && written < options.projectEvents; slot++) batch.push(projectEvent(written++, next));
      await log.appendToStream('project-1', batch);
    }
    const head = await log.headPosition();
    const catalog = new AdminCatalog();
    for (const recorded of await log.readAll()) catalog.apply(recorded);
    const app = new AdminApplication(
      { store: new UpcastingEventStore(log, upcastRecordedAdminEvent), catalog, explainer: new EvaluationExplainer() },
      { adminApiKey: 'bench-admin-key-0000', adminEmail: 'bench@flagline.local' },
    );
    const request: RequestContext = { principal: { kind: 'organisation-key', organisationId: 1, role: 'admin', keyId: 'bench', name: 'bench' }, correlationId: 'bench' };
    const explain = async (asOf: number): Promise<number> => {
      const started = performance.now();
      await app.evaluations.explain(request, '10', { identifier: identifierOf(0), asOf: String(asOf) });
      return performance.now() - started;
    };
    const cold = await explain(head);
    const random7 = random(7);
    const reads: number[] = [];
    for (let read = 0; read < options.reads; read++) reads.push(await explain(1 + Math.floor(random7() * head)));
    return [
      { name: 'Explain: project stream events (1,000 features)', value: options.projectEvents.toLocaleString('en-US') },
      { name: 'Explain: first explanation (folds the project stream once)', value: ms(cold) },
      {
        name: `Explain: an identity as of ${options.reads} random points`,
        value: `p50 ${ms(percentile(reads, 0.5))}, p99 ${ms(percentile(reads, 0.99))}, max ${ms(Math.max(...reads))}`,
      },
      { name: 'Explain: snapshots kept', value: String(app.evaluations.documents.snapshots.size) },
    ];
  } finally {
    await log.close();
    await rm(directory, { recursive: true, force: true });
  }
}

if (require.main === module) {
  measureExplain({ projectEvents: Number(process.argv[2] ?? 20_000), reads: Number(process.argv[3] ?? 300) })
    .then((rows) => process.stdout.write(`${rows.map((row) => `${row.name}: ${row.value}`).join('\n')}\n`))
    .catch((error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    });
}
