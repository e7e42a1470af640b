import { setupOrganisation, withoutWrites, type OrganisationSetup } from '../testing/fixtures';
import { readHistory, typesOf } from '../testing/history';
import { ADMIN, errorFields, expectStatus, num, obj, str, startTestApp, type ApiClient, type Json, type JsonObject, type TestApp } from '../testing/http-harness';

/** The items of a collection, whether it answers a bare array or a page (`{results, next}`). */
const itemsOf = (body: Json): JsonObject[] => (Array.isArray(body) ? body : (obj(body)['results'] as Json[])).map(obj);

/** Invitations over HTTP: organisation admins invite an email, and only its owner joins, by accepting. */
describe('Invitations over HTTP', () => {
  let t: TestApp;
  let a: OrganisationSetup;
  let b: OrganisationSetup;
  let counter = 0;

  beforeAll(async () => {
    t = await startTestApp();
    a = await setupOrganisation(t, 'Alpha');
    b = await setupOrganisation(t, 'Bravo');
  });

  afterAll(async () => {
    await t.dispose();
  });

  /** A registered user (in no organisation) and a client with their key. */
  const registerUser = async (email = `person-${++counter}@example.com`): Promise<{ userId: number; email: string; key: string; client: ApiClient }> => {
    const userId = num(expectStatus(await t.admin.post(`${ADMIN}/users`, { email, name: `Person ${counter}` }), 201), 'id');
    const key = str(expectStatus(await t.admin.post(`${ADMIN}/users/${userId}/api-keys`, { name: 'laptop' }), 201), 'key');
    return { userId, email, key, client: t.client(key) };
  };
  const invite = (client: ApiClient, organisationId: number, body: Record<string, unknown>) => client.post(`${ADMIN}/organisations/${organisationId}/invitations`, body);
  const invitationId = async (client: ApiClient, organisationId: number, email: string, role = 'member'): Promise<string> =>
    str(expectStatus(await invite(client, organisationId, { email, role }), 201), 'id');
  const admins = () => t.client(a.userKey);

  describe('given an organisation admin', () => {
    it('when they invite a registered and an unregistered email, then both answers have the same status and shape', async () => {
      const registered = await registerUser();
      const known = await invite(admins(), a.organisationId, { email: registered.email, role: 'member' });
      const unknown = await invite(admins(), a.organisationId, { email: `nobody-${++counter}@example.com`, role: 'member' });
      expect(known.status).toBe(201);
      expect(unknown.status).toBe(201);
      expect(Object.keys(obj(known.body)).sort()).toEqual(Object.keys(obj(unknown.body)).sort());
      expect(obj(known.body)).toMatchObject({ email: registered.email, role: 'member', status: 'pending', answeredAt: null, organisation: { id: a.organisationId, name: 'Alpha' } });
      // Apart from what differs by construction (id, email, times), the two answers are identical: nothing tells a registered email.
      const rest = (body: Json) => Object.fromEntries(Object.entries(obj(body)).filter(([name]) => !['id', 'email', 'createdAt', 'expiresAt'].includes(name)));
      expect(rest(known.body)).toEqual(rest(unknown.body));
      expect(Object.values(obj(known.body))).not.toContain(registered.userId);
    });

    it('when they invite, then it expires in seven days by default, or in the days they choose', async () => {
      const byDefault = obj(expectStatus(await invite(admins(), a.organisationId, { email: `later-${++counter}@example.com`, role: 'admin' }), 201));
      expect(Date.parse(str(byDefault, 'expiresAt')) - Date.parse(str(byDefault, 'createdAt'))).toBe(7 * 86_400_000);
      const chosen = obj(expectStatus(await invite(admins(), a.organisationId, { email: `soon-${++counter}@example.com`, role: 'member', expiresInDays: 2 }), 201));
      expect(Date.parse(str(chosen, 'expiresAt')) - Date.parse(str(chosen, 'createdAt'))).toBe(2 * 86_400_000);
    });

    it('when an invitation is retried with the same Idempotency-Key, then both answers name the one invitation stored', async () => {
      const body = { email: `retried-${++counter}@example.com`, role: 'member' };
      const headers = { 'idempotency-key': `invite-${counter}` };
      const first = obj(expectStatus(await admins().post(`${ADMIN}/organisations/${a.organisationId}/invitations`, body, { headers }), 201));
      const { response, written } = await withoutWrites(t, () => admins().post(`${ADMIN}/organisations/${a.organisationId}/invitations`, body, { headers }));
      expect(obj(expectStatus(response, 201))['id']).toBe(first['id']);
      expect(written).toBe(0);
    });

    it('when the invitation is bad, then 400 names every bad field and nothing is written', async () => {
      const { response, written } = await withoutWrites(t, () => invite(admins(), a.organisationId, { email: 'not-an-email', role: 'owner', expiresInDays: 31 }));
      expect(response.status).toBe(400);
      expect(errorFields(response.body).sort()).toEqual(['email', 'expiresInDays', 'role']);
      expect(written).toBe(0);
    });

    it('when the email already has a pending invitation, then 409 and nothing is written', async () => {
      const email = `twice-${++counter}@example.com`;
      await invitationId(admins(), a.organisationId, email);
      const { response, written } = await withoutWrites(t, () => invite(admins(), a.organisationId, { email: email.toUpperCase(), role: 'member' }));
      expect(response.status).toBe(409);
      expect(obj(response.body)['code']).toBe('INVITATION.PENDING');
      expect(written).toBe(0);
    });

    it('when they invite a current member, then 409 MEMBER.EXISTS', async () => {
      const response = await invite(admins(), a.organisationId, { email: 'alpha-owner@example.com', role: 'member' });
      expect(response.status).toBe(409);
      expect(obj(response.body)['code']).toBe('MEMBER.EXISTS');
    });

    it('when they list with a status that does not exist, then 400 names it', async () => {
      const response = await admins().get(`${ADMIN}/organisations/${a.organisationId}/invitations?status=lost`);
      expect(response.status).toBe(400);
      expect(errorFields(response.body)).toEqual(['status']);
    });
  });

  describe('given a member of the organisation', () => {
    it.each([
      ['invite', (s: OrganisationSetup) => t.client(s.memberOrgKey).post(`${ADMIN}/organisations/${s.organisationId}/invitations`, { email: 'x@example.com', role: 'admin' })],
      ['list invitations', (s: OrganisationSetup) => t.client(s.memberOrgKey).get(`${ADMIN}/organisations/${s.organisationId}/invitations`)],
    ])('when they %s, then 403 and nothing is written', async (_what, send) => {
      const { response, written } = await withoutWrites(t, () => send(a));
      expect(response.status).toBe(403);
      expect(written).toBe(0);
    });
  });

  describe('given an invited user who is registered', () => {
    it('when they accept, then they join with the invited role, and the history tells it', async () => {
      const invitee = await registerUser();
      const id = await invitationId(admins(), a.organisationId, invitee.email.toUpperCase(), 'admin');
      expect((await invitee.client.get(`${ADMIN}/organisations/${a.organisationId}`)).status).toBe(404);
      expect((await admins().get(`${ADMIN}/users/${invitee.userId}`)).status).toBe(404);
      const pending = itemsOf(expectStatus(await invitee.client.get(`${ADMIN}/users/me/invitations`), 200));
      expect(pending.map((entry) => entry['id'])).toEqual([id]);
      expect(pending[0]).toMatchObject({ organisation: { id: a.organisationId, name: 'Alpha' }, role: 'admin', status: 'pending' });

      const accepted = obj(expectStatus(await invitee.client.post(`${ADMIN}/invitations/${id}/accept`), 200));
      expect(accepted).toMatchObject({ id, status: 'accepted' });
      expect(typeof accepted['answeredAt']).toBe('string');
      expectStatus(await invitee.client.get(`${ADMIN}/organisations/${a.organisationId}`), 200);
      const members = itemsOf(expectStatus(await admins().get(`${ADMIN}/organisations/${a.organisationId}/members`), 200));
      expect(members.find((member) => member['userId'] === invitee.userId)).toMatchObject({ role: 'admin' });
      expect(itemsOf(expectStatus(await invitee.client.get(`${ADMIN}/users/me/invitations`), 200))).toEqual([]);

      const history = await readHistory(admins(), `/organisations/${a.organisationId}/history`, 500);
      const mine = history.filter((entry) => obj(entry['data'])['invitationId'] === id || obj(entry['data'])['userId'] === invitee.userId);
      expect(typesOf(mine)).toEqual(['InvitationCreated', 'InvitationAccepted', 'MemberAdded']);
      expect(obj(mine[1]?.['actor'])['id']).toBe(String(invitee.userId));
    });

    it('when they accept twice, then the second is 409 and nothing is written', async () => {
      const invitee = await registerUser();
      const id = await invitationId(admins(), a.organisationId, invitee.email);
      expectStatus(await invitee.client.post(`${ADMIN}/invitations/${id}/accept`), 200);
      for (const answer of ['accept', 'decline']) {
        const { response, written } = await withoutWrites(t, () => invitee.client.post(`${ADMIN}/invitations/${id}/${answer}`));
        expect(response.status).toBe(409);
        expect(obj(response.body)['code']).toBe('INVITATION.ANSWERED');
        expect(written).toBe(0);
      }
    });

    it('when they decline, then they do not join, and admins see it declined', async () => {
      const invitee = await registerUser();
      const id = await invitationId(admins(), a.organisationId, invitee.email);
      expect(obj(expectStatus(await invitee.client.post(`${ADMIN}/invitations/${id}/decline`), 200))['status']).toBe('declined');
      expect((await invitee.client.get(`${ADMIN}/organisations/${a.organisationId}`)).status).toBe(404);
      const declined = itemsOf(expectStatus(await admins().get(`${ADMIN}/organisations/${a.organisationId}/invitations?status=declined`), 200));
      expect(declined.map((entry) => entry['id'])).toContain(id);
      expect(declined.every((entry) => entry['status'] === 'declined')).toBe(true);
      const conflict = await invitee.client.post(`${ADMIN}/invitations/${id}/accept`);
      expect(conflict.status).toBe(409);
    });

    it('when an admin revokes it first, then accepting is 409 INVITATION.REVOKED and it is listed as revoked', async () => {
      const invitee = await registerUser();
      const id = await invitationId(admins(), a.organisationId, invitee.email);
      expect((await admins().delete(`${ADMIN}/organisations/${a.organisationId}/invitations/${id}`)).status).toBe(204);
      expect(itemsOf(expectStatus(await invitee.client.get(`${ADMIN}/users/me/invitations`), 200))).toEqual([]);
      const { response, written } = await withoutWrites(t, () => invitee.client.post(`${ADMIN}/invitations/${id}/accept`));
      expect(response.status).toBe(409);
      expect(obj(response.body)['code']).toBe('INVITATION.REVOKED');
      expect(written).toBe(0);
      const listed = itemsOf(expectStatus(await admins().get(`${ADMIN}/organisations/${a.organisationId}/invitations`), 200)).find((entry) => entry['id'] === id);
      expect(listed).toMatchObject({ status: 'revoked' });
      const again = await admins().delete(`${ADMIN}/organisations/${a.organisationId}/invitations/${id}`);
      expect(again.status).toBe(409);
      expect(obj(again.body)['code']).toBe('INVITATION.NOT_PENDING');
      const history = await readHistory(admins(), `/organisations/${a.organisationId}/history`, 500);
      expect(history.some((entry) => entry['type'] === 'InvitationRevoked' && obj(entry['data'])['invitationId'] === id)).toBe(true);
    });
  });

  describe('given a user who registers after being invited', () => {
    it('when they list their invitations, then the invitation is there (email matched case-insensitively), and they can accept it', async () => {
      const email = `newcomer-${++counter}@example.com`;
      const id = await invitationId(admins(), a.organisationId, email);
      const newcomer = await registerUser(email.replace('newcomer', 'NewComer'));
      const pending = itemsOf(expectStatus(await newcomer.client.get(`${ADMIN}/users/me/invitations`), 200));
      expect(pending.map((entry) => entry['id'])).toEqual([id]);
      expectStatus(await newcomer.client.post(`${ADMIN}/invitations/${id}/accept`), 200);
      expectStatus(await newcomer.client.get(`${ADMIN}/organisations/${a.organisationId}`), 200);
    });
  });

  describe('given someone who is not the invitee', () => {
    let id: string;
    let invitee: Awaited<ReturnType<typeof registerUser>>;

    beforeAll(async () => {
      invitee = await registerUser();
      id = await invitationId(admins(), a.organisationId, invitee.email);
    });

    it.each([
      ['another organisation’s user', () => t.client(b.userKey)],
      ['another organisation’s key', () => t.client(b.orgKey)],
      ['the inviting organisation’s own key', () => t.client(a.orgKey)],
      ['the inviting admin', () => t.client(a.userKey)],
      ['the instance administrator', () => t.admin],
    ])('when %s accepts or declines it, then 404 and nothing is written', async (_who, client) => {
      for (const answer of ['accept', 'decline']) {
        const { response, written } = await withoutWrites(t, () => client().post(`${ADMIN}/invitations/${id}/${answer}`));
        expect(response.status).toBe(404);
        expect(obj(response.body)['code']).toBe('INVITATION.NOT_FOUND');
        expect(written).toBe(0);
      }
    });

    it('when an unknown invitation is answered, then the same 404', async () => {
      const response = await invitee.client.post(`${ADMIN}/invitations/00000000-0000-4000-8000-000000000000/accept`);
      expect(response.status).toBe(404);
      expect(obj(response.body)['code']).toBe('INVITATION.NOT_FOUND');
    });

    it('when an organisation key lists “my” invitations, then 404', async () => {
      expect((await t.client(a.orgKey).get(`${ADMIN}/users/me/invitations`)).status).toBe(404);
    });

    it('the invitee still can accept it afterwards', async () => {
      expectStatus(await invitee.client.post(`${ADMIN}/invitations/${id}/accept`), 200);
    });
  });

  describe('given the members route', () => {
    it.each([
      ['an organisation admin user', () => t.client(a.userKey)],
      ['an organisation admin key', () => t.client(a.orgKey)],
    ])('when %s adds a user directly, then 403 whether or not the user exists, and nothing is written', async (_who, client) => {
      const target = await registerUser();
      const answers: JsonObject[] = [];
      for (const body of [
        { userId: target.userId, role: 'member' },
        { userId: 999_999, role: 'member' },
        { email: target.email, role: 'member' },
        { email: `ghost-${++counter}@example.com`, role: 'member' },
        { userId: 1, role: 'admin' },
      ]) {
        const { response, written } = await withoutWrites(t, () => client().post(`${ADMIN}/organisations/${a.organisationId}/members`, body));
        expect(response.status).toBe(403);
        expect(written).toBe(0);
        answers.push(obj(response.body));
      }
      expect(new Set(answers.map((answer) => JSON.stringify(answer))).size).toBe(1);
      expect(answers[0]?.['code']).toBe('PERMISSION.SUPERUSER_REQUIRED');
      expect((await target.client.get(`${ADMIN}/organisations/${a.organisationId}`)).status).toBe(404);
    });

    it('when the instance administrator adds a user directly, then they are a member', async () => {
      const target = await registerUser();
      expectStatus(await t.admin.post(`${ADMIN}/organisations/${a.organisationId}/members`, { userId: target.userId, role: 'member' }), 201);
      expectStatus(await target.client.get(`${ADMIN}/organisations/${a.organisationId}`), 200);
    });
  });

  describe('given a restart', () => {
    it('when the app restarts on the same data, then pending invitations are found by id and by email, and answered', async () => {
      const invitee = await registerUser();
      const id = await invitationId(admins(), a.organisationId, invitee.email);
      const revokedId = await invitationId(t.client(b.userKey), b.organisationId, invitee.email);
      expect((await t.client(b.userKey).delete(`${ADMIN}/organisations/${b.organisationId}/invitations/${revokedId}`)).status).toBe(204);
      await t.stop();
      t = await startTestApp({ dataDir: t.dataDir });
      const restarted = t.client(invitee.key);
      expect(itemsOf(expectStatus(await restarted.get(`${ADMIN}/users/me/invitations`), 200)).map((entry) => entry['id'])).toEqual([id]);
      expect(obj((await restarted.post(`${ADMIN}/invitations/${revokedId}/accept`)).body)['code']).toBe('INVITATION.REVOKED');
      expectStatus(await restarted.post(`${ADMIN}/invitations/${id}/accept`), 200);
      expectStatus(await restarted.get(`${ADMIN}/organisations/${a.organisationId}`), 200);
    });
  });

  describe('given a user in two organisations', () => {
    let shared: Awaited<ReturnType<typeof registerUser>>;

    beforeAll(async () => {
      shared = await registerUser();
      for (const s of [a, b]) expectStatus(await t.admin.post(`${ADMIN}/organisations/${s.organisationId}/members`, { userId: shared.userId, role: 'member' }), 201);
    });

    const organisationIds = (body: Json): number[] => (obj(body)['organisations'] as Json[]).map((entry) => num(entry, 'id')).sort((x, y) => x - y);

    it.each([
      ['A’s admin user', () => a.userKey, () => [a.organisationId]],
      ['A’s organisation key', () => a.orgKey, () => [a.organisationId]],
      ['B’s admin user', () => b.userKey, () => [b.organisationId]],
    ])('when %s reads them, then only the shared organisation is listed', async (_who, key, expected) => {
      expect(organisationIds(expectStatus(await t.client(key()).get(`${ADMIN}/users/${shared.userId}`), 200))).toEqual(expected());
    });

    it('when they read themselves, or the instance administrator reads them, then both organisations are listed', async () => {
      const both = [a.organisationId, b.organisationId].sort((x, y) => x - y);
      expect(organisationIds(expectStatus(await shared.client.get(`${ADMIN}/users/me`), 200))).toEqual(both);
      expect(organisationIds(expectStatus(await t.admin.get(`${ADMIN}/users/${shared.userId}`), 200))).toEqual(both);
    });

    it('when a user sharing no organisation reads them, then 404', async () => {
      const stranger = await registerUser();
      expect((await stranger.client.get(`${ADMIN}/users/${shared.userId}`)).status).toBe(404);
      expect((await t.client(a.userKey).get(`${ADMIN}/users/${stranger.userId}`)).status).toBe(404);
    });
  });
});
