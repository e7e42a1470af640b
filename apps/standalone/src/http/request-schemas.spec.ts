import Ajv, { type ValidateFunction } from 'ajv';
import { setupOrganisation, type OrganisationSetup } from '../testing/fixtures';
import { ADMIN, num, obj, startTestApp, type TestApp } from '../testing/http-harness';
import { toJsonSchema } from '../testing/openapi';

/**
 * Request bodies the document declares valid are the ones the API accepts: a client (or a fuzzer)
 * that follows the document is not refused with a 400, and one the API refuses breaks the document.
 */
describe('request body schemas of the document', () => {
  let t: TestApp;
  let s: OrganisationSetup;
  let ajv: Ajv;
  const validators = new Map<string, ValidateFunction>();

  const documentAccepts = (schema: string, body: unknown): boolean => {
    let validate = validators.get(schema);
    if (!validate) {
      validate = ajv.getSchema(`oas#/definitions/${schema}`);
      if (!validate) throw new Error(`no schema ${schema} in the document`);
      validators.set(schema, validate);
    }
    return validate(body);
  };

  beforeAll(async () => {
    t = await startTestApp();
    const document = obj((await t.admin.get('/openapi.json', { key: null })).body);
    ajv = new Ajv({ strict: false, validateFormats: false });
    ajv.addSchema({ definitions: toJsonSchema(obj(document['components'])['schemas']) }, 'oas');
    s = await setupOrganisation(t, 'Schemas');
  });

  afterAll(async () => {
    await t.dispose();
  });

  const colours = ['', '#fff', 'fff', '#FfFf', '#3d4db6', '3D4DB6', '#3d4db6ff', '#ggg', '#12', '#12345', '#1234567', 'red', ' #fff', '#fff\n'];

  it.each(colours)('a tag colour %j is accepted by the API exactly when the document allows it', async (color) => {
    const patched = await t.admin.patch(`${ADMIN}/projects/${s.projectId}/tags/${s.tagId}`, { color });
    expect([200, 400]).toContain(patched.status);
    expect({ color, accepted: patched.status === 200 }).toEqual({ color, accepted: documentAccepts('ChangeTagDto', { color }) });
    const body = { label: `colour ${JSON.stringify(color)}`, color };
    const created = await t.admin.post(`${ADMIN}/projects/${s.projectId}/tags`, body);
    expect([201, 400]).toContain(created.status);
    expect({ color, accepted: created.status === 201 }).toEqual({ color, accepted: documentAccepts('CreateTagDto', body) });
  });

  it('adding a member needs the user by id or by email, in the document as in the API', async () => {
    const register = async (email: string): Promise<number> => num((await t.admin.post(`${ADMIN}/users`, { email, name: email })).body, 'id');
    const byId = { userId: await register('by-id@example.com'), role: 'member' };
    await register('by-email@example.com');
    const byEmail = { email: 'by-email@example.com', role: 'member' };
    const neither = { role: 'member' };
    const members = `${ADMIN}/organisations/${s.organisationId}/members`;
    expect([documentAccepts('AddMemberDto', byId), documentAccepts('AddMemberDto', byEmail), documentAccepts('AddMemberDto', neither)]).toEqual([true, true, false]);
    expect((await t.admin.post(members, neither)).status).toBe(400);
    expect((await t.admin.post(members, byId)).status).toBe(201);
    expect((await t.admin.post(members, byEmail)).status).toBe(201);
  });
});
