import { setupOrganisation, withoutWrites, type OrganisationSetup } from '../testing/fixtures';
import { ADMIN, startTestApp, type TestApp } from '../testing/http-harness';
import { identityPath, ROUTES } from '../testing/routes';

/** Every write route of the admin API, and the identity routes whose bodies are read again for float traits. */
const WRITES = (s: OrganisationSetup): { method: 'POST' | 'PUT' | 'PATCH'; path: string }[] => [
  ...ROUTES.flatMap((route) => (route.method === 'POST' || route.method === 'PUT' || route.method === 'PATCH') && route.body && route.readOnly !== true ? [{ method: route.method, path: route.path(s) }] : []),
  { method: 'POST', path: `/environments/${s.environmentId}/identities` },
  { method: 'PATCH', path: `${identityPath(s)}/traits` },
  { method: 'PUT', path: `${identityPath(s)}/traits` },
];

describe('a JSON write with an empty body', () => {
  let t: TestApp;
  let s: OrganisationSetup;

  beforeAll(async () => {
    t = await startTestApp();
    s = await setupOrganisation(t, 'empty');
  });

  afterAll(() => t.dispose());

  it('when Content-Type is application/json and the body is empty, then every write route answers 400 and writes nothing', async () => {
    const answers: string[] = [];
    for (const { method, path } of WRITES(s)) {
      const { response, written } = await withoutWrites(t, () => t.admin.request(method, `${ADMIN}${path}`, { raw: '', headers: { 'content-type': 'application/json' } }));
      if (response.status !== 400 || written !== 0) answers.push(`${method} ${path}: ${response.status}, ${written} events ${response.text.slice(0, 120)}`);
    }
    expect(answers).toEqual([]);
  });
});
