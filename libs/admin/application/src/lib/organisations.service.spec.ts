import { AdminCatalog } from '@flagline/admin-projections';
import { InMemoryEventStore, type Subscription } from '@flagline/event-sourcing';
import { AdminApplication } from './admin-application';
import type { RequestContext } from './admin-context';
import type { Principal } from './principal';

/** Organisation reads as of a point of the log, against the in-memory store. */
describe('Organisations service as of a point', () => {
  let feed: Subscription;
  let app: AdminApplication;
  let store: InMemoryEventStore;
  const as = (principal: Principal, asOf?: number): RequestContext => ({ principal, correlationId: 'test', ...(asOf !== undefined ? { asOf } : {}) });

  beforeEach(async () => {
    store = new InMemoryEventStore();
    const catalog = new AdminCatalog();
    feed = store.subscribeToAll({}, (event) => catalog.apply(event));
    app = new AdminApplication({ store, catalog }, { adminApiKey: 'k'.repeat(32), adminEmail: 'root@example.com' });
    await app.auth.bootstrap();
  });

  afterEach(async () => {
    await feed.stop();
  });

  it('lists members with their profiles as they were then: a name changed since reads as it was, a user deleted since is still listed', async () => {
    const root = app.auth.authenticate('k'.repeat(32));
    if (!root) throw new Error('no administrator');
    const register = async (email: string, name: string): Promise<{ id: number; request: RequestContext }> => {
      const { view } = await app.users.register(as(root), { email, name });
      return { id: view.id, request: as({ kind: 'user', userId: view.id, isSuperuser: false, name }) };
    };
    const owner = await register('owner@example.com', 'Owner');
    const grace = await register('grace@example.com', 'Grace Hopper');
    const ada = await register('ada@example.com', 'Ada Lovelace');
    const organisationId = (await app.organisations.create(owner.request, { name: 'Acme' })).view.id;
    await app.organisations.addMember(as(root), organisationId, { userId: grace.id, role: 'member' });
    await app.organisations.addMember(as(root), organisationId, { userId: ada.id, role: 'member' });
    const then = await store.headPosition();
    const before = await app.organisations.members(owner.request, organisationId);

    // Since then: Grace renames herself and Ada leaves and is deleted.
    await app.users.changeProfile(as(root), grace.id, { name: 'Grace B. Hopper' });
    await app.organisations.removeMember(owner.request, organisationId, ada.id);
    await app.users.delete(as(root), ada.id);

    const now = await app.organisations.members(owner.request, organisationId);
    expect(now.map((member) => [member.userId, member.name])).toEqual([
      [owner.id, 'Owner'],
      [grace.id, 'Grace B. Hopper'],
    ]);
    const asOfThen = await app.organisations.members(as(owner.request.principal, then), organisationId);
    expect(asOfThen).toEqual(before);
    expect(asOfThen.map((member) => [member.userId, member.email, member.name])).toEqual([
      [owner.id, 'owner@example.com', 'Owner'],
      [grace.id, 'grace@example.com', 'Grace Hopper'],
      [ada.id, 'ada@example.com', 'Ada Lovelace'],
    ]);
  });
});
