import { setupOrganisation, type OrganisationSetup } from '../testing/fixtures';
import { ADMIN, expectStatus, obj, startTestApp, str, type TestApp } from '../testing/http-harness';

describe('The environment document names its organisation', () => {
  let t: TestApp;
  let s: OrganisationSetup;
  let serverKey: string;

  const organisationName = async (): Promise<string> => {
    const document = obj(expectStatus(await t.client(null).get('/api/v1/environment-document/', { headers: { 'x-environment-key': serverKey } }), 200));
    return str(obj(obj(document['project'])['organisation']), 'name');
  };

  /** The name once the change has reached the evaluation side (it follows the admin write through the bus). */
  const eventually = async (expected: string): Promise<string> => {
    const deadline = Date.now() + 5000;
    let seen = await organisationName();
    while (seen !== expected && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      seen = await organisationName();
    }
    return seen;
  };

  beforeAll(async () => {
    t = await startTestApp();
    s = await setupOrganisation(t, 'Named');
    serverKey = str(expectStatus(await t.admin.post(`${ADMIN}/environments/${s.environmentId}/api-keys`, { name: 'local' }), 201), 'key');
  });

  afterAll(async () => {
    await t.dispose();
  });

  it('when read with a server key, then the organisation has its name', async () => {
    expect(await eventually('Named')).toBe('Named');
  });

  it('when the organisation is renamed, then the document follows', async () => {
    expectStatus(await t.admin.patch(`${ADMIN}/organisations/${s.organisationId}`, { name: 'Renamed Inc' }), 200);
    expect(await eventually('Renamed Inc')).toBe('Renamed Inc');
  });

  it('when the app restarts on the same data, then the name is rebuilt from the log', async () => {
    await t.stop();
    const restarted = await startTestApp({ dataDir: t.dataDir, env: { ADMIN_API_KEY: t.adminKey } });
    try {
      const document = obj(expectStatus(await restarted.client(null).get('/api/v1/environment-document/', { headers: { 'x-environment-key': serverKey } }), 200));
      expect(obj(obj(document['project'])['organisation'])['name']).toBe('Renamed Inc');
    } finally {
      await restarted.stop();
    }
  });
});
