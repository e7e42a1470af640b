import type { DomainError } from '@flagline/admin-domain';
import { AdminCatalog } from '@flagline/admin-projections';
import { InMemoryEventStore, type Subscription } from '@flagline/event-sourcing';
import { AdminApplication } from './admin-application';
import type { RequestContext } from './admin-context';
import type { Principal } from './principal';

const DAY = 86_400_000;

/** Invitations against the in-memory store, with a clock the test moves: expiry is decided against it. */
describe('Invitations service', () => {
  let now: Date;
  let feed: Subscription;
  let app: AdminApplication;
  let store: InMemoryEventStore;
  const as = (principal: Principal): RequestContext => ({ principal, correlationId: 'test' });
  let owner: RequestContext;
  let invitee: RequestContext;
  let organisationId: number;

  beforeEach(async () => {
    now = new Date('2026-03-01T09:00:00.000Z');
    store = new InMemoryEventStore();
    const catalog = new AdminCatalog();
    feed = store.subscribeToAll({}, (event) => catalog.apply(event));
    app = new AdminApplication({ store, catalog, clock: () => now }, { adminApiKey: 'k'.repeat(32), adminEmail: 'root@example.com' });
    await app.auth.bootstrap();
    const root = app.auth.authenticate('k'.repeat(32));
    if (!root) throw new Error('no administrator');
    const register = async (email: string): Promise<RequestContext> => {
      const { view } = await app.users.register(as(root), { email, name: email });
      return as({ kind: 'user', userId: view.id, isSuperuser: false, name: email });
    };
    owner = await register('owner@example.com');
    invitee = await register('grace@example.com');
    organisationId = (await app.organisations.create(owner, { name: 'Acme' })).view.id;
  });

  afterEach(async () => {
    await feed.stop();
  });

  const codeOf = async (promise: Promise<unknown>): Promise<string> => {
    try {
      await promise;
    } catch (error) {
      return (error as DomainError).code;
    }
    throw new Error('expected a rejection');
  };

  it('lists an invitation as pending until it expires, then as expired, and hides it from the invitee', async () => {
    const { id } = await app.invitations.invite(owner, organisationId, { email: 'grace@example.com', role: 'member', expiresInDays: 2 });
    now = new Date(now.getTime() + 2 * DAY - 1);
    expect(app.invitations.list(owner, organisationId).map((view) => view.status)).toEqual(['pending']);
    expect(app.invitations.mine(invitee).map((view) => view.id)).toEqual([id]);
    now = new Date(now.getTime() + 1);
    expect(app.invitations.list(owner, organisationId, 'expired').map((view) => view.id)).toEqual([id]);
    expect(app.invitations.list(owner, organisationId, 'pending')).toEqual([]);
    expect(app.invitations.mine(invitee)).toEqual([]);
  });

  it('refuses to accept an expired invitation with 409 INVITATION.EXPIRED and writes nothing', async () => {
    const { id } = await app.invitations.invite(owner, organisationId, { email: 'grace@example.com', role: 'member' });
    now = new Date(now.getTime() + 7 * DAY);
    const head = await store.headPosition();
    expect(await codeOf(app.invitations.accept(invitee, id))).toBe('INVITATION.EXPIRED');
    expect(await codeOf(app.invitations.revoke(owner, organisationId, id))).toBe('INVITATION.NOT_PENDING');
    expect(await store.headPosition()).toBe(head);
    expect(app.organisations.roleOf(invitee, organisationId)).toBeNull();
  });

  it('accepts up to the last moment before expiry', async () => {
    const { id } = await app.invitations.invite(owner, organisationId, { email: 'grace@example.com', role: 'admin' });
    now = new Date(now.getTime() + 7 * DAY - 1);
    expect((await app.invitations.accept(invitee, id)).status).toBe('accepted');
    expect(app.organisations.roleOf(invitee, organisationId)).toBe('admin');
  });

  it('lets the email be invited again once its invitation expired', async () => {
    await app.invitations.invite(owner, organisationId, { email: 'grace@example.com', role: 'member', expiresInDays: 1 });
    expect(await codeOf(app.invitations.invite(owner, organisationId, { email: 'grace@example.com', role: 'member' }))).toBe('INVITATION.PENDING');
    now = new Date(now.getTime() + DAY);
    const again = await app.invitations.invite(owner, organisationId, { email: 'grace@example.com', role: 'member' });
    expect(app.invitations.mine(invitee).map((view) => view.id)).toEqual([again.id]);
  });
});
