import { setupOrganisation, withoutWrites, type OrganisationSetup } from '../testing/fixtures';
import { errorFields, expectStatus, obj, startTestApp, type TestApp } from '../testing/http-harness';

describe('SDK query parameters given more than once', () => {
  let t: TestApp;
  let s: OrganisationSetup;

  beforeAll(async () => {
    t = await startTestApp();
    s = await setupOrganisation(t, 'sdkquery');
  });

  afterAll(() => t.dispose());

  it.each([
    ['/api/v1/identities/?identifier=first&identifier=second', 'identifier'],
    ['/api/v1/identities/?identifier=ada&transient=true&transient=false', 'transient'],
    ['/api/v1/identities/?identifier=ada&feature=a&feature=b', 'feature'],
    ['/api/v1/flags/?feature=a&feature=b', 'feature'],
  ])('when %s is asked, then it is a 400 naming %s and no identity is created', async (path, field) => {
    const { response, written } = await withoutWrites(t, () => t.client(null).get(path, { headers: { 'x-environment-key': s.environmentKey } }));
    expect(response.status).toBe(400);
    expect(obj(response.body)['code']).toBe('VALIDATION_FAILED');
    expect(errorFields(response.body)).toEqual([field]);
    expect(written).toBe(0);
  });

  it('when each parameter is given once, then the identity is answered', async () => {
    const body = obj(expectStatus(await t.client(null).get('/api/v1/identities/?identifier=once&transient=true', { headers: { 'x-environment-key': s.environmentKey } }), 200));
    expect(body['identifier']).toBe('once');
  });
});
