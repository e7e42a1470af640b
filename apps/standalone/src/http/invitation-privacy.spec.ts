import { setupOrganisation, type OrganisationSetup } from '../testing/fixtures';
import { ofType } from '../testing/history';
import { ADMIN, expectStatus, num, obj, results, str, startTestApp, type ApiClient, type JsonObject, type TestApp } from '../testing/http-harness';

describe('the history of an invitation someone declined', () => {
  let t: TestApp;
  let s: OrganisationSetup;
  let orgAdmin: ApiClient;
  let outsiderId: number;

  async function historyEntry(client: ApiClient, type: string): Promise<JsonObject> {
    const entries = results(expectStatus(await client.get(`${ADMIN}/organisations/${s.organisationId}/history?pageSize=500&type=${type}`), 200));
    const [entry] = ofType(entries, type);
    if (!entry) throw new Error(`no ${type} in the organisation's history`);
    return entry;
  }

  beforeAll(async () => {
    t = await startTestApp();
    s = await setupOrganisation(t, 'privacy');
    orgAdmin = t.client(s.userKey);
    // A registered user who belongs to no organisation of the inviting admin's.
    outsiderId = num(expectStatus(await t.admin.post(`${ADMIN}/users`, { email: 'outsider@example.com', name: 'Outsider' }), 201), 'id');
    const outsider = t.client(str(expectStatus(await t.admin.post(`${ADMIN}/users/${outsiderId}/api-keys`, { name: 'own' }), 201), 'key'));
    const invitationId = str(expectStatus(await orgAdmin.post(`${ADMIN}/organisations/${s.organisationId}/invitations`, { email: 'outsider@example.com', role: 'member' }), 201), 'id');
    expectStatus(await outsider.post(`${ADMIN}/invitations/${invitationId}/decline`), 200);
  });

  afterAll(() => t.dispose());

  it('when the organisation admin reads it, then it names the invitation but not the id of the user who declined', async () => {
    for (const client of [orgAdmin, t.client(s.orgKey), t.client(s.memberOrgKey)]) {
      const entry = await historyEntry(client, 'InvitationDeclined');
      expect(obj(entry['data'])).not.toHaveProperty('userId');
      expect(obj(entry['actor'])).toMatchObject({ kind: 'user', id: '', name: 'outsider@example.com' });
      expect(JSON.stringify(entry)).not.toMatch(new RegExp(`"${outsiderId}"|:${outsiderId}[,}]`));
    }
    expectStatus(await orgAdmin.get(`${ADMIN}/users/${outsiderId}`), 404);
  });

  it('when the instance administrator reads it, then the user is named in full', async () => {
    const entry = await historyEntry(t.admin, 'InvitationDeclined');
    expect(obj(entry['data'])['userId']).toBe(outsiderId);
    expect(obj(entry['actor'])).toMatchObject({ kind: 'user', id: String(outsiderId) });
  });

  it('when the user who declined later joins, then fellow members see the id again', async () => {
    const invitationId = str(expectStatus(await orgAdmin.post(`${ADMIN}/organisations/${s.organisationId}/invitations`, { email: 'outsider@example.com', role: 'member' }), 201), 'id');
    const outsiderKey = str(expectStatus(await t.admin.post(`${ADMIN}/users/${outsiderId}/api-keys`, { name: 'second' }), 201), 'key');
    expectStatus(await t.client(outsiderKey).post(`${ADMIN}/invitations/${invitationId}/accept`), 200);
    const entry = await historyEntry(orgAdmin, 'InvitationDeclined');
    expect(obj(entry['data'])['userId']).toBe(outsiderId);
    expect(obj((await historyEntry(orgAdmin, 'InvitationAccepted'))['data'])['userId']).toBe(outsiderId);
  });
});
