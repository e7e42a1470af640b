import { AdminApplication, type RequestContext } from '@flagline/admin-application';
import { AdminCatalog } from '@flagline/admin-projections';
import { InMemoryEventStore, type EventStore, type Subscription } from '@flagline/event-sourcing';
import { SqliteCatalogStore } from '@flagline/state-store-sqlite';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ADMIN_KEY = 'catalog-restart-admin-key';
const ADMIN_EMAIL = 'admin@flagline.local';

interface Running {
  readonly catalog: AdminCatalog;
  readonly catalogStore: SqliteCatalogStore;
  readonly admin: AdminApplication;
  readonly feed: Subscription;
  readonly discarded: string[];
}

/** The standalone app's catalog wiring, in process: a SQLite catalog store resumed from its checkpoint, fed by the log after it. */
async function start(log: EventStore, path: string, flushIntervalMs = 200): Promise<Running> {
  const discarded: string[] = [];
  const catalogStore = SqliteCatalogStore.open(path, { onDiscarded: (reason) => discarded.push(reason) });
  const catalog = await AdminCatalog.open(log, { store: catalogStore, flushIntervalMs });
  const feed = log.subscribeToAll({ after: catalog.position }, (event) => catalog.apply(event));
  await feed.caughtUp;
  const admin = new AdminApplication({ store: log, catalog }, { adminApiKey: ADMIN_KEY, adminEmail: ADMIN_EMAIL });
  await admin.auth.bootstrap();
  return { catalog, catalogStore, admin, feed, discarded };
}

function request(admin: AdminApplication, commandId?: string): RequestContext {
  const principal = admin.auth.authenticate(ADMIN_KEY);
  if (!principal) throw new Error('admin key not recognised');
  return { principal, correlationId: 'catalog-restart', ...(commandId !== undefined ? { commandId } : {}) };
}

/** Every read of the catalog the admin API serves for this environment: all pages, a search, histories. */
async function reads(admin: AdminApplication, environment: string, projectId: number): Promise<unknown> {
  const context = request(admin);
  const pages: unknown[] = [];
  let after: string | undefined;
  do {
    const page = await admin.identities.list(context, environment, { limit: 7, ...(after !== undefined ? { after: [after] } : {}) });
    pages.push(page.results);
    after = page.next ?? undefined;
  } while (after !== undefined);
  return {
    pages,
    search: await admin.identities.list(context, environment, { search: 'USER-1', limit: 50 }),
    ada: await admin.identities.get(context, environment, 'user-3'),
    identityHistory: await admin.audit.history(context, { kind: 'identity', environment, identifier: 'user-3' }, { limit: 50 }),
    projectHistory: await admin.audit.history(context, { kind: 'project', projectId }, { limit: 500 }),
    environmentHistory: await admin.audit.history(context, { kind: 'environment', environment }, { limit: 2, types: ['EnvironmentCreated'] }),
  };
}

/** Every row of every table of a SQLite file, in key order, as SQLite gives them (text and numbers byte for byte). */
function tableRows(file: string): Map<string, unknown[]> {
  const db = new Database(file, { readonly: true });
  try {
    const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all();
    return new Map(tables.map(({ name }) => [name, db.prepare(`SELECT * FROM "${name}" ORDER BY 1, 2`).all()]));
  } finally {
    db.close();
  }
}

describe('Admin catalog persisted in catalog.sqlite', () => {
  let dir: string;
  let path: string;
  const log = new InMemoryEventStore();
  let environment: string;
  let projectId: number;
  let before: unknown;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'catalog-restart-'));
    path = join(dir, 'catalog.sqlite');
    const first = await start(log, path);
    const { admin } = first;
    const organisation = await admin.organisations.create(request(admin), { name: 'Acme' });
    const project = await admin.projects.create(request(admin), { organisationId: organisation.view.id, name: 'Storefront' });
    projectId = project.view.id;
    const created = await admin.environments.create(request(admin), projectId, { name: 'Production' });
    environment = String(created.view.id);
    for (let index = 0; index < 30; index++) {
      await admin.identities.create(request(admin), environment, { identifier: `user-${index}`, traits: { plan: index % 2 === 0 ? 'pro' : 'free', index } });
    }
    await admin.identities.updateTraits(request(admin), environment, 'user-3', { plan: 'enterprise', index: null });
    await admin.identities.delete(request(admin), environment, 'user-4');
    await admin.identities.create(request(admin, 'retried-create'), environment, { identifier: 'user-retried', traits: {} });
    before = await reads(admin, environment, projectId);
    expect(first.catalog.appliedCount).toBe(await log.headPosition());
    await first.feed.stop();
    first.catalog.close();
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('restarts from the snapshot and checkpoint without replaying the log, and answers every read the same', async () => {
    const head = await log.headPosition();
    const restarted = await start(log, path);
    try {
      expect(restarted.catalog.appliedCount).toBe(0);
      expect(restarted.catalog.position).toBe(head);
      expect(await reads(restarted.admin, environment, projectId)).toEqual(before);
      // A retried create is answered from what its first attempt appended, and writes nothing.
      const retried = await restarted.admin.identities.create(request(restarted.admin, 'retried-create'), environment, { identifier: 'user-retried', traits: {} });
      expect(retried.view.identifier).toBe('user-retried');
      expect(await log.headPosition()).toBe(head);
    } finally {
      await restarted.feed.stop();
      restarted.catalog.close();
    }
  });

  it('after a crash before the write-behind flush, reads only the log after the last flushed checkpoint', async () => {
    const running = await start(log, path, 60_000);
    const checkpoint = running.catalog.position;
    await running.admin.identities.create(request(running.admin), environment, { identifier: 'user-late', traits: { plan: 'pro' } });
    await running.admin.identities.updateTraits(request(running.admin), environment, 'user-late', { plan: 'free' });
    expect((await running.admin.identities.get(request(running.admin), environment, 'user-late')).view.traits).toEqual({ plan: 'free' });
    // The process dies: the store closes without the catalog flushing what it applied.
    await running.feed.stop();
    running.catalogStore.close();

    const head = await log.headPosition();
    const restarted = await start(log, path);
    try {
      expect(head).toBeGreaterThan(checkpoint);
      expect(restarted.catalog.appliedCount).toBe(head - checkpoint);
      expect((await restarted.admin.identities.get(request(restarted.admin), environment, 'user-late')).view.traits).toEqual({ plan: 'free' });
    } finally {
      await restarted.feed.stop();
      restarted.catalog.close();
    }
  });

  it('holds, after restarts and a crash, the same rows as a catalog rebuilt from the log in one pass', async () => {
    const rebuiltPath = join(dir, 'rebuilt.sqlite');
    const rebuilt = new AdminCatalog({ store: SqliteCatalogStore.open(rebuiltPath), flushEvents: 1_000_000 });
    for (const event of await log.readAll()) rebuilt.apply(event);
    rebuilt.close();
    expect(tableRows(path)).toEqual(tableRows(rebuiltPath));
    expect((tableRows(rebuiltPath).get('identity') ?? []).length).toBe(32);
  });

  it('rebuilds a torn catalog.sqlite from the whole log instead of serving it', async () => {
    truncateSync(path, Math.floor(statSync(path).size / 2));
    const restarted = await start(log, path);
    try {
      expect(restarted.discarded).toEqual([expect.stringContaining('torn')]);
      expect(restarted.catalog.appliedCount).toBe(await log.headPosition());
      const now = (await reads(restarted.admin, environment, projectId)) as { pages: { identifier: string }[][] };
      expect(now.pages.flat().map((identity) => identity.identifier)).toContain('user-late');
    } finally {
      await restarted.feed.stop();
      restarted.catalog.close();
    }
  });

  it('rebuilds a missing catalog.sqlite, and empties one whose checkpoint another log does not hold', async () => {
    rmSync(path);
    const rebuilt = await start(log, path);
    expect(rebuilt.catalog.appliedCount).toBe(await log.headPosition());
    await rebuilt.feed.stop();
    rebuilt.catalog.close();

    const otherLog = new InMemoryEventStore();
    const foreign = await start(otherLog, path);
    try {
      expect(foreign.catalog.appliedCount).toBe(await otherLog.headPosition());
      await expect(foreign.admin.identities.get(request(foreign.admin), environment, 'user-3')).rejects.toThrow();
    } finally {
      await foreign.feed.stop();
      foreign.catalog.close();
    }
  });
});
