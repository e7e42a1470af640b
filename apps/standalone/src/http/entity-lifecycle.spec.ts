import { setupProject, SAMPLE_RULES } from '../testing/fixtures';
import { ADMIN, arr, listAll, expectStatus, num, obj, startTestApp, str, type ApiClient, type JsonObject, type TestApp } from '../testing/http-harness';
import { ofType, readHistory, typesOf } from '../testing/history';

/**
 * Every entity of the admin API is created, read, changed and removed over HTTP, and each change
 * shows up in the entity's history with who, when, the correlation id and what changed.
 */
describe('Admin API entity lifecycle over HTTP', () => {
  let t: TestApp;
  let admin: ApiClient;
  let adminUserId: number;

  beforeAll(async () => {
    t = await startTestApp();
    admin = t.admin;
    adminUserId = num(expectStatus(await admin.get(`${ADMIN}/users/me`), 200), 'id');
  });

  afterAll(async () => {
    await t.dispose();
  });

  const expectActorIsAdmin = (entry: JsonObject): void => {
    expect(entry['actor']).toEqual({ kind: 'user', id: String(adminUserId), name: 'admin@flagline.local' });
  };

  describe('organisations', () => {
    let organisationId: number;
    let etag: string | null;

    beforeAll(async () => {
      const response = await admin.post(`${ADMIN}/organisations`, { name: 'Acme' }, { headers: { 'x-correlation-id': 'corr-org-create' } });
      organisationId = num(expectStatus(response, 201), 'id');
      etag = response.etag;
    });

    it('when created, then the answer holds the organisation and an ETag', async () => {
      const read = await admin.get(`${ADMIN}/organisations/${organisationId}`);
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({ id: organisationId, name: 'Acme' });
      expect(read.etag).toBe(etag);
    });

    it('when created, then it is in the caller’s list with the admin role', async () => {
      const list = (await listAll(admin, `${ADMIN}/organisations`));
      expect(list).toContainEqual(expect.objectContaining({ id: organisationId, name: 'Acme', role: 'admin' }));
    });

    it('when renamed, then the new name is read back with a newer ETag', async () => {
      const renamed = await admin.patch(`${ADMIN}/organisations/${organisationId}`, { name: 'Acme Ltd' }, { headers: { 'if-match': etag ?? '' } });
      expect(renamed.status).toBe(200);
      expect(renamed.etag).not.toBe(etag);
      const read = await admin.get(`${ADMIN}/organisations/${organisationId}`);
      expect(read.body).toMatchObject({ name: 'Acme Ltd' });
      expect(read.etag).toBe(renamed.etag);
    });

    it('when its history is read, then creation and rename are there with actor, time, correlation id and data', async () => {
      const history = await readHistory(admin, `/organisations/${organisationId}/history`, 1);
      expect(typesOf(history)).toEqual(['OrganisationCreated', 'MemberAdded', 'OrganisationRenamed']);
      const [createdEntry] = history;
      expect(createdEntry).toMatchObject({ correlationId: 'corr-org-create', data: { organisationId, name: 'Acme' } });
      expectActorIsAdmin(obj(createdEntry));
      expect(Number.isNaN(Date.parse(str(createdEntry, 'occurredAt')))).toBe(false);
      expect(ofType(history, 'OrganisationRenamed')[0]).toMatchObject({ data: { name: 'Acme Ltd' } });
    });

    it('when deleted, then it is gone', async () => {
      expect((await admin.delete(`${ADMIN}/organisations/${organisationId}`)).status).toBe(204);
      expect((await admin.get(`${ADMIN}/organisations/${organisationId}`)).status).toBe(404);
      const list = (await listAll(admin, `${ADMIN}/organisations`));
      expect(list.map((entry) => num(entry, 'id'))).not.toContain(organisationId);
    });
  });

  describe('users, members and API keys', () => {
    let organisationId: number;
    let userId: number;

    beforeAll(async () => {
      organisationId = num(expectStatus(await admin.post(`${ADMIN}/organisations`, { name: 'People' }), 201), 'id');
      userId = num(expectStatus(await admin.post(`${ADMIN}/users`, { email: 'dana@example.com', name: 'Dana' }), 201), 'id');
    });

    it('when a user is registered, then they can be read with an ETag', async () => {
      const read = await admin.get(`${ADMIN}/users/${userId}`);
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({ id: userId, email: 'dana@example.com', name: 'Dana', isSuperuser: false, organisations: [] });
      expect(read.etag).toMatch(/^"\d+"$/);
    });

    it('when a user’s profile is changed, then the new name is read back', async () => {
      const changed = await admin.patch(`${ADMIN}/users/${userId}`, { name: 'Dana S.' });
      expect(changed.status).toBe(200);
      expect(obj(expectStatus(await admin.get(`${ADMIN}/users/${userId}`), 200))['name']).toBe('Dana S.');
    });

    it('when a user is added as a member and their role changed, then the member list follows and the history records it', async () => {
      expectStatus(await admin.post(`${ADMIN}/organisations/${organisationId}/members`, { email: 'dana@example.com', role: 'member' }), 201);
      expectStatus(await admin.patch(`${ADMIN}/organisations/${organisationId}/members/${userId}`, { role: 'admin' }), 200);
      const members = (await listAll(admin, `${ADMIN}/organisations/${organisationId}/members`));
      expect(members).toContainEqual(expect.objectContaining({ userId, role: 'admin', email: 'dana@example.com' }));
      const history = await readHistory(admin, `/organisations/${organisationId}/history`);
      expect(typesOf(history)).toEqual(['OrganisationCreated', 'MemberAdded', 'MemberAdded', 'MemberRoleChanged']);
    });

    it('when a user key is issued, then it authenticates as the user and is listed without its secret', async () => {
      const issued = obj(expectStatus(await admin.post(`${ADMIN}/users/${userId}/api-keys`, { name: 'laptop' }), 201));
      const key = str(issued, 'key');
      const me = obj(expectStatus(await t.client(key).get(`${ADMIN}/users/me`), 200));
      expect(me).toMatchObject({ id: userId, organisations: [{ id: organisationId, role: 'admin' }] });
      const listed = (await listAll(admin, `${ADMIN}/users/${userId}/api-keys`));
      expect(listed).toEqual([expect.objectContaining({ id: issued['id'], name: 'laptop' })]);
      expect(JSON.stringify(listed)).not.toContain(key);
    });

    it('when a user key is revoked, then it no longer authenticates', async () => {
      const issued = obj(expectStatus(await admin.post(`${ADMIN}/users/${userId}/api-keys`, { name: 'old' }), 201));
      expect((await admin.delete(`${ADMIN}/users/${userId}/api-keys/${str(issued, 'id')}`)).status).toBe(204);
      expect((await t.client(str(issued, 'key')).get(`${ADMIN}/users/me`)).status).toBe(401);
    });

    it('when an organisation key is issued and revoked, then it works until it is revoked', async () => {
      const issued = obj(expectStatus(await admin.post(`${ADMIN}/organisations/${organisationId}/api-keys`, { name: 'ci' }), 201));
      expect(issued['role']).toBe('admin');
      const client = t.client(str(issued, 'key'));
      expect((await client.get(`${ADMIN}/organisations/${organisationId}`)).status).toBe(200);
      const listed = (await listAll(admin, `${ADMIN}/organisations/${organisationId}/api-keys`));
      expect(listed.map((key) => str(key, 'id'))).toContain(str(issued, 'id'));
      expect((await admin.delete(`${ADMIN}/organisations/${organisationId}/api-keys/${str(issued, 'id')}`)).status).toBe(204);
      expect((await client.get(`${ADMIN}/organisations/${organisationId}`)).status).toBe(401);
    });

    it('when a member is removed, then they no longer see the organisation', async () => {
      const otherId = num(expectStatus(await admin.post(`${ADMIN}/users`, { email: 'eli@example.com', name: 'Eli' }), 201), 'id');
      expectStatus(await admin.post(`${ADMIN}/organisations/${organisationId}/members`, { userId: otherId, role: 'member' }), 201);
      const key = str(expectStatus(await admin.post(`${ADMIN}/users/${otherId}/api-keys`, { name: 'k' }), 201), 'key');
      expect((await t.client(key).get(`${ADMIN}/organisations/${organisationId}`)).status).toBe(200);
      expect((await admin.delete(`${ADMIN}/organisations/${organisationId}/members/${otherId}`)).status).toBe(204);
      expect((await t.client(key).get(`${ADMIN}/organisations/${organisationId}`)).status).toBe(404);
    });

    it('when a user is deleted, then they cannot be read and their keys stop working', async () => {
      const goneId = num(expectStatus(await admin.post(`${ADMIN}/users`, { email: 'gone@example.com', name: 'Gone' }), 201), 'id');
      const key = str(expectStatus(await admin.post(`${ADMIN}/users/${goneId}/api-keys`, { name: 'k' }), 201), 'key');
      expect((await admin.delete(`${ADMIN}/users/${goneId}`)).status).toBe(204);
      expect((await admin.get(`${ADMIN}/users/${goneId}`)).status).toBe(404);
      expect((await t.client(key).get(`${ADMIN}/users/me`)).status).toBe(401);
      expect(typesOf(await readHistory(admin, `/users/${goneId}/history`))).toEqual(['UserRegistered', 'UserApiKeyIssued', 'UserDeleted']);
    });

    it('when a user reads their own history, then registration, profile changes and keys are there, with who did them', async () => {
      const key = str(expectStatus(await admin.post(`${ADMIN}/users/${userId}/api-keys`, { name: 'history' }), 201), 'key');
      const history = await readHistory(t.client(key), `/users/${userId}/history`);
      expect(typesOf(history).slice(0, 2)).toEqual(['UserRegistered', 'UserProfileChanged']);
      expect(typesOf(history)).toEqual(expect.arrayContaining(['UserApiKeyIssued', 'UserApiKeyRevoked']));
      expect(history[1]).toMatchObject({ data: { userId, name: 'Dana S.' } });
      expectActorIsAdmin(obj(history[0]));
    });

    it('when a member user is deleted, then they leave their organisations', async () => {
      const leaverId = num(expectStatus(await admin.post(`${ADMIN}/users`, { email: 'leaver@example.com', name: 'Leaver' }), 201), 'id');
      expectStatus(await admin.post(`${ADMIN}/organisations/${organisationId}/members`, { userId: leaverId, role: 'admin' }), 201);
      expect((await admin.delete(`${ADMIN}/users/${leaverId}`)).status).toBe(204);
      const history = await readHistory(admin, `/organisations/${organisationId}/history`);
      expect(history[history.length - 1]).toMatchObject({ type: 'MemberRemoved', data: { userId: leaverId } });
    });

    it('when the last admin of an organisation is deleted, then 409 and they stay', async () => {
      const soleId = num(expectStatus(await admin.post(`${ADMIN}/users`, { email: 'sole@example.com', name: 'Sole' }), 201), 'id');
      const soleKey = str(expectStatus(await admin.post(`${ADMIN}/users/${soleId}/api-keys`, { name: 'k' }), 201), 'key');
      const owned = num(expectStatus(await t.client(soleKey).post(`${ADMIN}/organisations`, { name: 'Sole’s' }), 201), 'id');
      const head = await t.app.store.headPosition();
      const refused = await admin.delete(`${ADMIN}/users/${soleId}`);
      expect(refused.status).toBe(409);
      expect(obj(refused.body)['code']).toBe('MEMBER.LAST_ADMIN');
      expect(await t.app.store.headPosition()).toBe(head);
      expect((await t.client(soleKey).get(`${ADMIN}/organisations/${owned}`)).status).toBe(200);
    });

    it('when a deleted admin was one of two, then the other is still the last admin', async () => {
      const ownerId = num(expectStatus(await admin.post(`${ADMIN}/users`, { email: 'owner2@example.com', name: 'Owner' }), 201), 'id');
      const ownerKey = str(expectStatus(await admin.post(`${ADMIN}/users/${ownerId}/api-keys`, { name: 'k' }), 201), 'key');
      const owned = num(expectStatus(await t.client(ownerKey).post(`${ADMIN}/organisations`, { name: 'Two admins' }), 201), 'id');
      const coId = num(expectStatus(await admin.post(`${ADMIN}/users`, { email: 'co@example.com', name: 'Co' }), 201), 'id');
      // Only the instance administrator adds a user directly; an owner would invite them.
      expectStatus(await admin.post(`${ADMIN}/organisations/${owned}/members`, { userId: coId, role: 'admin' }), 201);
      expect((await admin.delete(`${ADMIN}/users/${coId}`)).status).toBe(204);
      const removal = await t.client(ownerKey).delete(`${ADMIN}/organisations/${owned}/members/${ownerId}`);
      expect(removal.status).toBe(409);
      expect(obj(removal.body)['code']).toBe('MEMBER.LAST_ADMIN');
    });
  });

  describe('projects and tags', () => {
    let organisationId: number;
    let projectId: number;

    beforeAll(async () => {
      ({ organisationId, projectId } = await setupProject(admin, 'Tags'));
    });

    it('when a project is read, listed and changed, then the answers follow', async () => {
      const read = await admin.get(`${ADMIN}/projects/${projectId}`);
      expect(read.body).toMatchObject({ id: projectId, organisationId, name: 'Tags project', hideDisabledFlags: false });
      const listed = (await listAll(admin, `${ADMIN}/projects?organisation=${organisationId}`));
      expect(listed.map((project) => num(project, 'id'))).toEqual([projectId]);
      const changed = await admin.patch(`${ADMIN}/projects/${projectId}`, { name: 'Renamed', hideDisabledFlags: true }, { headers: { 'if-match': read.etag ?? '' } });
      expect(changed.status).toBe(200);
      expect(changed.body).toMatchObject({ name: 'Renamed', hideDisabledFlags: true });
    });

    it('when a tag is created, changed and deleted, then each step is read back and in the tag’s history', async () => {
      const createdTag = await admin.post(`${ADMIN}/projects/${projectId}/tags`, { label: 'payments', color: '#ff0000' });
      const tagId = num(expectStatus(createdTag, 201), 'id');
      const read = await admin.get(`${ADMIN}/projects/${projectId}/tags/${tagId}`);
      expect(read.body).toMatchObject({ id: tagId, label: 'payments', color: '#ff0000' });
      expect(read.etag).toBe(createdTag.etag);
      const changed = await admin.patch(`${ADMIN}/projects/${projectId}/tags/${tagId}`, { label: 'billing' }, { headers: { 'if-match': read.etag ?? '' } });
      expect(changed.body).toMatchObject({ label: 'billing', color: '#ff0000' });
      expect((await listAll(admin, `${ADMIN}/projects/${projectId}/tags`))).toContainEqual(expect.objectContaining({ id: tagId, label: 'billing' }));
      expect((await admin.delete(`${ADMIN}/projects/${projectId}/tags/${tagId}`)).status).toBe(204);
      expect((await admin.get(`${ADMIN}/projects/${projectId}/tags/${tagId}`)).status).toBe(404);
      expect(typesOf(await readHistory(admin, `/projects/${projectId}/tags/${tagId}/history`))).toEqual(['TagCreated', 'TagChanged', 'TagDeleted']);
    });

    it('when a project is deleted, then it and its routes are gone', async () => {
      const { projectId: doomed } = await setupProject(admin, 'Doomed');
      expect((await admin.delete(`${ADMIN}/projects/${doomed}`)).status).toBe(204);
      expect((await admin.get(`${ADMIN}/projects/${doomed}`)).status).toBe(404);
      expect((await admin.get(`${ADMIN}/projects/${doomed}/features`)).status).toBe(404);
    });
  });

  describe('features, environments and feature states', () => {
    let projectId: number;
    let firstEnvironmentId: number;
    let featureId: number;

    beforeAll(async () => {
      ({ projectId } = await setupProject(admin, 'Features'));
      firstEnvironmentId = num(expectStatus(await admin.post(`${ADMIN}/projects/${projectId}/environments`, { name: 'Development' }), 201), 'id');
      featureId = num(
        expectStatus(await admin.post(`${ADMIN}/projects/${projectId}/features`, { name: 'new_checkout', defaultEnabled: true, initialValue: 'on' }), 201),
        'id',
      );
    });

    const stateOf = async (environmentId: number, id: number): Promise<JsonObject | undefined> => {
      const states = (await listAll(admin, `${ADMIN}/environments/${environmentId}/feature-states`)).map(obj);
      return states.find((state) => state['featureId'] === id);
    };

    it('when a feature is created, then it has a state in every existing environment, from its defaults', async () => {
      expect(await stateOf(firstEnvironmentId, featureId)).toMatchObject({ featureId, enabled: true, value: 'on' });
    });

    it('when an environment is created, then it holds a state for every feature', async () => {
      const other = num(expectStatus(await admin.post(`${ADMIN}/projects/${projectId}/features`, { name: 'second' }), 201), 'id');
      const environmentId = num(expectStatus(await admin.post(`${ADMIN}/projects/${projectId}/environments`, { name: 'Production' }), 201), 'id');
      const states = (await listAll(admin, `${ADMIN}/environments/${environmentId}/feature-states`)).map(obj);
      expect(states.map((state) => state['featureId']).sort()).toEqual([featureId, other].sort());
    });

    it('when a feature is read, changed with If-Match and listed, then the answers follow', async () => {
      const read = await admin.get(`${ADMIN}/projects/${projectId}/features/${featureId}`);
      expect(read.body).toMatchObject({ id: featureId, name: 'new_checkout', type: 'STANDARD', defaultEnabled: true, initialValue: 'on' });
      expect(read.etag).toMatch(/^"\d+"$/);
      const changed = await admin.patch(
        `${ADMIN}/projects/${projectId}/features/${featureId}`,
        { name: 'checkout_v2', description: 'The new checkout' },
        { headers: { 'if-match': read.etag ?? '' } },
      );
      expect(changed.status).toBe(200);
      expect(changed.body).toMatchObject({ name: 'checkout_v2', description: 'The new checkout' });
      const listed = (await listAll(admin, `${ADMIN}/projects/${projectId}/features?search=checkout`));
      expect(listed.map((feature) => num(feature, 'id'))).toEqual([featureId]);
    });

    it('when a feature state is changed, then it is read back with a new ETag', async () => {
      const read = await admin.get(`${ADMIN}/environments/${firstEnvironmentId}/feature-states/${featureId}`);
      expect(read.etag).toMatch(/^"\d+"$/);
      const changed = await admin.patch(
        `${ADMIN}/environments/${firstEnvironmentId}/feature-states/${featureId}`,
        { enabled: false, value: 'off' },
        { headers: { 'if-match': read.etag ?? '' } },
      );
      expect(changed.status).toBe(200);
      expect(changed.body).toMatchObject({ enabled: false, value: 'off', featureId, environmentId: firstEnvironmentId });
      expect(changed.etag).not.toBe(read.etag);
      expect((await admin.get(`${ADMIN}/environments/${firstEnvironmentId}/feature-states/${featureId}`)).body).toEqual(changed.body);
    });

    it('when multivariate options are added, changed and removed, then the feature follows and environment allocations start from the default', async () => {
      const mvId = num(expectStatus(await admin.post(`${ADMIN}/projects/${projectId}/features`, { name: 'colour', initialValue: 'blue' }), 201), 'id');
      const added = obj(
        expectStatus(await admin.post(`${ADMIN}/projects/${projectId}/features/${mvId}/multivariate-options`, { value: 'red', defaultPercentageAllocation: 25 }), 201),
      );
      expect(added['type']).toBe('MULTIVARIATE');
      const optionId = num(arr(added['multivariateOptions'])[0], 'id');
      expect(await stateOf(firstEnvironmentId, mvId)).toMatchObject({ multivariateAllocations: [{ optionId, percentage: 25 }] });
      const changed = obj(expectStatus(await admin.patch(`${ADMIN}/projects/${projectId}/features/${mvId}/multivariate-options/${optionId}`, { value: 'crimson' }), 200));
      expect(changed['multivariateOptions']).toEqual([expect.objectContaining({ id: optionId, value: 'crimson', defaultPercentageAllocation: 25 })]);
      expect((await admin.delete(`${ADMIN}/projects/${projectId}/features/${mvId}/multivariate-options/${optionId}`)).status).toBe(204);
      expect(obj(expectStatus(await admin.get(`${ADMIN}/projects/${projectId}/features/${mvId}`), 200))['multivariateOptions']).toEqual([]);
      expect(typesOf(await readHistory(admin, `/projects/${projectId}/features/${mvId}/history`))).toEqual([
        'FeatureCreated',
        'MultivariateOptionAdded',
        'MultivariateOptionChanged',
        'MultivariateOptionRemoved',
      ]);
    });

    it('when a feature is deleted, then it, its states, and its entry in lists are gone, while its history stays', async () => {
      const doomed = num(expectStatus(await admin.post(`${ADMIN}/projects/${projectId}/features`, { name: 'doomed' }), 201), 'id');
      expect((await admin.delete(`${ADMIN}/projects/${projectId}/features/${doomed}`)).status).toBe(204);
      expect((await admin.get(`${ADMIN}/projects/${projectId}/features/${doomed}`)).status).toBe(404);
      expect(await stateOf(firstEnvironmentId, doomed)).toBeUndefined();
      expect(typesOf(await readHistory(admin, `/projects/${projectId}/features/${doomed}/history`))).toEqual(['FeatureCreated', 'FeatureDeleted']);
    });

    it('when the feature history is read, then FeatureCreated carries the feature data and later changes follow', async () => {
      const history = await readHistory(admin, `/projects/${projectId}/features/${featureId}/history`, 1);
      expect(history[0]).toMatchObject({ type: 'FeatureCreated', data: { featureId, name: 'new_checkout', defaultEnabled: true, initialValue: 'on' } });
      expectActorIsAdmin(obj(history[0]));
      expect(typesOf(history)).toEqual(expect.arrayContaining(['FeatureRenamed', 'FeatureDescriptionChanged', 'FeatureStateChanged']));
    });

    it('when an environment is renamed, given server keys are issued and revoked, then the environment and its keys follow', async () => {
      const read = await admin.get(`${ADMIN}/environments/${firstEnvironmentId}`);
      expect(read.etag).toMatch(/^"\d+"$/);
      const apiKey = str(read.body, 'apiKey');
      const renamed = await admin.patch(`${ADMIN}/environments/${apiKey}`, { name: 'Dev', allowClientTraits: false }, { headers: { 'if-match': read.etag ?? '' } });
      expect(renamed.status).toBe(200);
      expect(renamed.body).toMatchObject({ id: firstEnvironmentId, name: 'Dev', allowClientTraits: false, apiKey });
      const key = obj(expectStatus(await admin.post(`${ADMIN}/environments/${firstEnvironmentId}/api-keys`, { name: 'server' }), 201));
      expect(str(key, 'key').startsWith('ser.')).toBe(true);
      expect((await listAll(admin, `${ADMIN}/environments/${firstEnvironmentId}/api-keys`)).map((k) => str(k, 'id'))).toEqual([key['id']]);
      expect((await admin.delete(`${ADMIN}/environments/${firstEnvironmentId}/api-keys/${str(key, 'id')}`)).status).toBe(204);
      expect((await listAll(admin, `${ADMIN}/environments/${firstEnvironmentId}/api-keys`))).toEqual([]);
      expect(typesOf(await readHistory(admin, `/environments/${firstEnvironmentId}/history`))).toEqual(
        expect.arrayContaining(['EnvironmentCreated', 'EnvironmentRenamed', 'EnvironmentSettingsChanged', 'ServerKeyIssued', 'ServerKeyRevoked']),
      );
    });

    it('when an environment is deleted, then it is gone from reads and lists, while its history stays', async () => {
      const doomed = num(expectStatus(await admin.post(`${ADMIN}/projects/${projectId}/environments`, { name: 'Doomed' }), 201), 'id');
      expect((await admin.delete(`${ADMIN}/environments/${doomed}`)).status).toBe(204);
      expect((await admin.get(`${ADMIN}/environments/${doomed}`)).status).toBe(404);
      const listed = (await listAll(admin, `${ADMIN}/projects/${projectId}/environments`));
      expect(listed.map((environment) => num(environment, 'id'))).not.toContain(doomed);
      expect(typesOf(await readHistory(admin, `/environments/${doomed}/history`))).toEqual(['EnvironmentCreated', 'EnvironmentDeleted']);
    });
  });

  describe('segments, segment overrides and cloning', () => {
    let projectId: number;
    let environmentId: number;
    let featureId: number;
    let segmentIds: number[];

    beforeAll(async () => {
      ({ projectId } = await setupProject(admin, 'Segments'));
      environmentId = num(expectStatus(await admin.post(`${ADMIN}/projects/${projectId}/environments`, { name: 'Production' }), 201), 'id');
      featureId = num(
        expectStatus(
          await admin.post(`${ADMIN}/projects/${projectId}/features`, {
            name: 'pricing',
            initialValue: 'base',
            multivariateOptions: [{ value: 'a', defaultPercentageAllocation: 10 }],
          }),
          201,
        ),
        'id',
      );
      segmentIds = [];
      for (const name of ['first', 'second', 'third']) {
        segmentIds.push(num(expectStatus(await admin.post(`${ADMIN}/projects/${projectId}/segments`, { name, rules: SAMPLE_RULES }), 201), 'id'));
      }
      for (const segment of segmentIds) {
        expectStatus(await admin.post(`${ADMIN}/environments/${environmentId}/segment-overrides`, { feature: featureId, segment, enabled: true, value: `for-${segment}` }), 201);
      }
    });

    it('when a segment is created, then its rules are read back in stored form', async () => {
      const read = await admin.get(`${ADMIN}/projects/${projectId}/segments/${segmentIds[0]}`);
      expect(read.etag).toMatch(/^"\d+"$/);
      const rules = arr(obj(read.body)['rules']);
      expect(rules[0]).toMatchObject({
        type: 'ALL',
        conditions: [
          { property: 'plan', operator: 'EQUAL', value: 'pro' },
          { property: 'age', operator: 'GREATER_THAN_INCLUSIVE', value: '18' },
        ],
      });
      expect(JSON.stringify(rules)).toContain(JSON.stringify(JSON.stringify(['FR', 'DE'])));
    });

    it('when its rules change, then a SegmentRuleChanged event is in the segment history', async () => {
      const segmentId = segmentIds[2] as number;
      const read = await admin.get(`${ADMIN}/projects/${projectId}/segments/${segmentId}`);
      const newRules = [{ type: 'ANY', conditions: [{ property: 'plan', operator: 'IN', value: 'pro,enterprise' }] }];
      const changed = await admin.patch(`${ADMIN}/projects/${projectId}/segments/${segmentId}`, { rules: newRules, name: 'third!' }, { headers: { 'if-match': read.etag ?? '' } });
      expect(changed.status).toBe(200);
      expect(changed.body).toMatchObject({ name: 'third!', rules: [{ type: 'ANY', conditions: [{ property: 'plan', operator: 'IN', value: 'pro,enterprise' }], rules: [] }] });
      const history = await readHistory(admin, `/projects/${projectId}/segments/${segmentId}/history`);
      expect(ofType(history, 'SegmentRuleChanged')).toEqual([expect.objectContaining({ data: expect.objectContaining({ segmentId, rules: obj(changed.body)['rules'] }) })]);
    });

    it('when overrides were created, then they are listed by priority, strongest first', async () => {
      const listed = (await listAll(admin, `${ADMIN}/environments/${environmentId}/segment-overrides?feature=${featureId}`)).map(obj);
      expect(listed.map((override) => [override['segmentId'], override['priority']])).toEqual(segmentIds.map((id, index) => [id, index]));
      expect(listed[0]).toMatchObject({ value: `for-${segmentIds[0]}`, enabled: true, multivariateAllocations: [expect.objectContaining({ percentage: 10 })] });
    });

    it('when the override order is changed, then the priorities follow the new order and history records it', async () => {
      const reversed = [...segmentIds].reverse();
      const reordered = arr(expectStatus(await admin.put(`${ADMIN}/environments/${environmentId}/features/${featureId}/segment-override-order`, { segmentIds: reversed }), 200));
      expect(reordered.map((override) => [num(override, 'segmentId'), num(override, 'priority')])).toEqual(reversed.map((id, index) => [id, index]));
      const read = obj(expectStatus(await admin.get(`${ADMIN}/environments/${environmentId}/segment-overrides/${featureId}/${reversed[0]}`), 200));
      expect(read['priority']).toBe(0);
      const history = await readHistory(admin, `/environments/${environmentId}/history`);
      expect(ofType(history, 'SegmentOverridesReordered')).toEqual([expect.objectContaining({ data: expect.objectContaining({ segmentIds: reversed }) })]);
    });

    it('when an override is changed with If-Match, then the change is read back', async () => {
      const path = `${ADMIN}/environments/${environmentId}/segment-overrides/${featureId}/${segmentIds[1]}`;
      const read = await admin.get(path);
      expect(read.etag).toMatch(/^"\d+"$/);
      const changed = await admin.patch(path, { enabled: false, value: 'changed' }, { headers: { 'if-match': read.etag ?? '' } });
      expect(changed.status).toBe(200);
      expect((await admin.get(path)).body).toMatchObject({ enabled: false, value: 'changed', segmentId: segmentIds[1] });
    });

    it('when the environment is cloned, then feature states and segment overrides are copied with new keys and ids', async () => {
      const source = obj(expectStatus(await admin.get(`${ADMIN}/environments/${environmentId}`), 200));
      expectStatus(await admin.patch(`${ADMIN}/environments/${environmentId}/feature-states/${featureId}`, { enabled: true, value: 'cloned-value' }), 200);
      const clone = obj(expectStatus(await admin.post(`${ADMIN}/environments/${environmentId}/clone`, { name: 'Clone' }), 201));
      const cloneId = num(clone, 'id');
      expect(cloneId).not.toBe(environmentId);
      expect(str(clone, 'apiKey')).not.toBe(source['apiKey']);
      const sourceStates = (await listAll(admin, `${ADMIN}/environments/${environmentId}/feature-states`)).map(obj);
      const cloneStates = (await listAll(admin, `${ADMIN}/environments/${cloneId}/feature-states`)).map(obj);
      const comparable = (state: JsonObject) => ({ featureId: state['featureId'], enabled: state['enabled'], value: state['value'], allocations: state['multivariateAllocations'] });
      expect(cloneStates.map(comparable)).toEqual(sourceStates.map(comparable));
      const sourceStateIds = new Set(sourceStates.map((state) => state['featureStateId']));
      expect(cloneStates.every((state) => !sourceStateIds.has(state['featureStateId']))).toBe(true);
      const sourceOverrides = (await listAll(admin, `${ADMIN}/environments/${environmentId}/segment-overrides`)).map(obj);
      const cloneOverrides = (await listAll(admin, `${ADMIN}/environments/${cloneId}/segment-overrides`)).map(obj);
      const overrideShape = (override: JsonObject) => ({
        segmentId: override['segmentId'],
        priority: override['priority'],
        enabled: override['enabled'],
        value: override['value'],
        featureId: override['featureId'],
      });
      expect(cloneOverrides.map(overrideShape)).toEqual(sourceOverrides.map(overrideShape));
      expect(cloneOverrides).toHaveLength(3);
      expect((await listAll(admin, `${ADMIN}/environments/${cloneId}/api-keys`))).toEqual([]);
      expect(cloneOverrides.every((override) => !sourceOverrides.some((original) => original['featureStateId'] === override['featureStateId']))).toBe(true);
    });

    it('when an override is removed, then it is gone and the others keep their order', async () => {
      const listed = (await listAll(admin, `${ADMIN}/environments/${environmentId}/segment-overrides?feature=${featureId}`)).map(obj);
      const [first, ...rest] = listed.map((override) => num(override, 'segmentId'));
      expect((await admin.delete(`${ADMIN}/environments/${environmentId}/segment-overrides/${featureId}/${first}`)).status).toBe(204);
      expect((await admin.get(`${ADMIN}/environments/${environmentId}/segment-overrides/${featureId}/${first}`)).status).toBe(404);
      const after = (await listAll(admin, `${ADMIN}/environments/${environmentId}/segment-overrides?feature=${featureId}`)).map(obj);
      expect(after.map((override) => [override['segmentId'], override['priority']])).toEqual(rest.map((id, index) => [id, index]));
    });

    it('when a segment is deleted, then it and its overrides are gone', async () => {
      const segmentId = segmentIds[1] as number;
      expect((await admin.delete(`${ADMIN}/projects/${projectId}/segments/${segmentId}`)).status).toBe(204);
      expect((await admin.get(`${ADMIN}/projects/${projectId}/segments/${segmentId}`)).status).toBe(404);
      const listed = (await listAll(admin, `${ADMIN}/environments/${environmentId}/segment-overrides`)).map(obj);
      expect(listed.map((override) => override['segmentId'])).not.toContain(segmentId);
      expect(typesOf(await readHistory(admin, `/projects/${projectId}/segments/${segmentId}/history`))).toEqual(expect.arrayContaining(['SegmentCreated', 'SegmentDeleted']));
    });
  });

  describe('identities', () => {
    let projectId: number;
    let environmentId: number;
    let featureId: number;
    const identifier = 'user@example.com';
    const path = (): string => `${ADMIN}/environments/${environmentId}/identities/${encodeURIComponent(identifier)}`;

    beforeAll(async () => {
      ({ projectId } = await setupProject(admin, 'Identities'));
      environmentId = num(expectStatus(await admin.post(`${ADMIN}/projects/${projectId}/environments`, { name: 'Production' }), 201), 'id');
      featureId = num(expectStatus(await admin.post(`${ADMIN}/projects/${projectId}/features`, { name: 'beta', initialValue: 'default' }), 201), 'id');
      expectStatus(await admin.post(`${ADMIN}/environments/${environmentId}/identities`, { identifier, traits: { plan: 'pro', logins: 7, ratio: 0.5, verified: true } }), 201);
    });

    it('when created with string, number and boolean traits, then they are read back with their types', async () => {
      const read = await admin.get(path());
      expect(read.etag).toMatch(/^"\d+"$/);
      expect(read.body).toMatchObject({ identifier, environmentId, traits: { plan: 'pro', logins: 7, ratio: 0.5, verified: true }, overrides: [] });
    });

    it('when traits are patched, then given values are set and a null removes a trait', async () => {
      const changed = await admin.patch(`${path()}/traits`, { traits: { plan: 'enterprise', logins: null, newbie: false } });
      expect(changed.status).toBe(200);
      expect(obj(changed.body)['traits']).toEqual({ plan: 'enterprise', ratio: 0.5, verified: true, newbie: false });
    });

    it('when traits are named like object built-ins, then they are stored and read back like any other', async () => {
      const other = `${ADMIN}/environments/${environmentId}/identities`;
      const created = await admin.request('POST', other, { raw: '{"identifier": "builtin-names", "traits": {"__proto__": "p", "constructor": 1, "toString": true, "prototype": "x"}}' });
      expect(created.status).toBe(201);
      const expected = JSON.parse('{"__proto__": "p", "constructor": 1, "prototype": "x", "toString": true}') as unknown;
      expect(obj(created.body)['traits']).toEqual(expected);
      const changed = await admin.request('PATCH', `${other}/builtin-names/traits`, { raw: '{"traits": {"__proto__": null, "hasOwnProperty": "y"}}' });
      expect(changed.status).toBe(200);
      expect(Object.keys(obj(obj(changed.body)['traits'])).sort()).toEqual(['constructor', 'hasOwnProperty', 'prototype', 'toString']);
    });

    it('when traits are replaced, then only the given ones are left', async () => {
      const replaced = await admin.put(`${path()}/traits`, { traits: { country: 'FR' } });
      expect(replaced.status).toBe(200);
      expect(obj(expectStatus(await admin.get(path()), 200))['traits']).toEqual({ country: 'FR' });
    });

    it('when an identity override is set and removed, then it is read back, then gone', async () => {
      const set = await admin.put(`${path()}/overrides/${featureId}`, { enabled: true, value: 'mine' });
      expect(set.status).toBe(200);
      expect(obj(set.body)['overrides']).toEqual([expect.objectContaining({ featureId, featureName: 'beta', enabled: true, value: 'mine' })]);
      expect((await admin.delete(`${path()}/overrides/${featureId}`)).status).toBe(204);
      expect(obj(expectStatus(await admin.get(path()), 200))['overrides']).toEqual([]);
    });

    it('when the identity history is read, then traits and IdentityOverrideSet are recorded in order', async () => {
      const history = await readHistory(admin, `/environments/${environmentId}/identities/${encodeURIComponent(identifier)}/history`);
      expect(typesOf(history)).toEqual(['IdentityCreated', 'IdentityTraitsChanged', 'IdentityTraitsChanged', 'IdentityOverrideSet', 'IdentityOverrideRemoved']);
      // Created with its traits in one event.
      expect(history[0]).toMatchObject({ data: { identifier, traits: { plan: 'pro', logins: 7, ratio: 0.5, verified: true }, floats: [] } });
      expect(ofType(history, 'IdentityOverrideSet')[0]).toMatchObject({ data: { featureId, enabled: true, value: 'mine', identifier } });
      expect(history[1]).toMatchObject({ data: { set: { plan: 'enterprise', newbie: false }, removed: ['logins'] } });
    });

    it('when identities are listed, then the identity is there', async () => {
      const listed = obj(expectStatus(await admin.get(`${ADMIN}/environments/${environmentId}/identities?search=user@`), 200));
      expect(arr(listed['results']).map((identity) => str(identity, 'identifier'))).toEqual([identifier]);
    });

    it('when identities are listed page by page, then each identifier comes once, in order', async () => {
      const identifiers = ['page-a', 'page-b', 'page-c', 'page-d', 'page-e'];
      for (const name of identifiers) expectStatus(await admin.post(`${ADMIN}/environments/${environmentId}/identities`, { identifier: name }), 201);
      const seen: string[] = [];
      let after: string | null = null;
      do {
        const query: string = after === null ? '' : `&after=${encodeURIComponent(after)}`;
        const body = obj(expectStatus(await admin.get(`${ADMIN}/environments/${environmentId}/identities?search=page-&pageSize=2${query}`), 200));
        const page = arr(body['results']).map((identity) => str(identity, 'identifier'));
        expect(page.length).toBeLessThanOrEqual(2);
        seen.push(...page);
        const next = body['next'];
        after = typeof next === 'string' ? next : null;
      } while (after !== null);
      expect(seen).toEqual(identifiers);
    });

    it('when an identity is deleted, then it is gone', async () => {
      expect((await admin.delete(path())).status).toBe(204);
      expect((await admin.get(path())).status).toBe(404);
    });
  });

  describe('the project history', () => {
    let projectId: number;
    let entries: JsonObject[];

    beforeAll(async () => {
      ({ projectId } = await setupProject(admin, 'History'));
      const environmentId = num(expectStatus(await admin.post(`${ADMIN}/projects/${projectId}/environments`, { name: 'Production' }), 201), 'id');
      const featureId = num(expectStatus(await admin.post(`${ADMIN}/projects/${projectId}/features`, { name: 'f' }), 201), 'id');
      const segmentId = num(expectStatus(await admin.post(`${ADMIN}/projects/${projectId}/segments`, { name: 's', rules: SAMPLE_RULES }), 201), 'id');
      expectStatus(await admin.patch(`${ADMIN}/projects/${projectId}/segments/${segmentId}`, { rules: [{ type: 'ALL', conditions: [{ property: 'a', operator: 'IS_SET' }] }] }), 200);
      expectStatus(await admin.post(`${ADMIN}/environments/${environmentId}/segment-overrides`, { feature: featureId, segment: segmentId, enabled: true }), 201);
      expectStatus(await admin.patch(`${ADMIN}/environments/${environmentId}/feature-states/${featureId}`, { enabled: true }, { headers: { 'x-correlation-id': 'corr-toggle' } }), 200);
      entries = await readHistory(admin, `/projects/${projectId}/history`, 2);
    });

    it('when read page by page, then it holds every change of the project in log order, without repeats', () => {
      expect(typesOf(entries)).toEqual([
        'ProjectCreated',
        'EnvironmentCreated',
        'FeatureCreated',
        'SegmentCreated',
        'SegmentRuleChanged',
        'SegmentOverrideCreated',
        'FeatureStateChanged',
      ]);
      const positions = entries.map((entry) => num(entry, 'position'));
      expect([...positions].sort((a, b) => a - b)).toEqual(positions);
      expect(new Set(positions).size).toBe(positions.length);
    });

    it('when read in one page, then it equals the paged reading', async () => {
      const whole = obj(expectStatus(await admin.get(`${ADMIN}/projects/${projectId}/history?pageSize=500`), 200));
      expect(whole['results']).toEqual(entries);
      expect(whole['next']).toBeNull();
    });

    it('when an entry is inspected, then it says who, when, which correlation id and what', () => {
      const toggle = ofType(entries, 'FeatureStateChanged')[0] as JsonObject;
      expect(toggle).toMatchObject({ correlationId: 'corr-toggle', data: { enabled: true }, stream: `project-${projectId}` });
      expectActorIsAdmin(toggle);
      expect(Date.parse(str(toggle, 'occurredAt'))).toBeLessThanOrEqual(Date.now());
    });

    it('when filtered by type, then only that type is returned', async () => {
      const filtered = obj(expectStatus(await admin.get(`${ADMIN}/projects/${projectId}/history?type=FeatureCreated,SegmentRuleChanged`), 200));
      expect(typesOf(arr(filtered['results']).map(obj))).toEqual(['FeatureCreated', 'SegmentRuleChanged']);
    });

    it('when filtered by type and read page by page, then the pages hold exactly the matching entries and end without an empty page', async () => {
      const pages: number[] = [];
      const seen: string[] = [];
      let after: string | null = null;
      do {
        const query: string = after === null ? '' : `&after=${after}`;
        const body = obj(expectStatus(await admin.get(`${ADMIN}/projects/${projectId}/history?type=FeatureCreated,SegmentCreated&pageSize=1${query}`), 200));
        const page = arr(body['results']).map(obj);
        pages.push(page.length);
        seen.push(...typesOf(page));
        after = body['next'] === null ? null : str(body, 'next');
      } while (after !== null);
      expect(seen).toEqual(['FeatureCreated', 'SegmentCreated']);
      expect(pages).toEqual([1, 1]);
    });

    it('when a change is made by an organisation key, then the history names the key as actor', async () => {
      const organisationId = num(expectStatus(await admin.get(`${ADMIN}/projects/${projectId}`), 200), 'organisationId');
      const issued = obj(expectStatus(await admin.post(`${ADMIN}/organisations/${organisationId}/api-keys`, { name: 'deployer' }), 201));
      expectStatus(await t.client(str(issued, 'key')).post(`${ADMIN}/projects/${projectId}/features`, { name: 'by_key' }), 201);
      const history = obj(expectStatus(await admin.get(`${ADMIN}/projects/${projectId}/history?type=FeatureCreated`), 200));
      const last = arr(history['results']).map(obj).pop();
      expect(last).toMatchObject({ actor: { kind: 'organisation-key', id: issued['id'], name: 'deployer' }, data: { name: 'by_key' } });
    });
  });

  describe('idempotent retries', () => {
    let projectId: number;

    beforeAll(async () => {
      ({ projectId } = await setupProject(admin, 'Retries'));
    });

    it('when a change is retried with the same Idempotency-Key, then nothing more is written', async () => {
      const featureId = num(expectStatus(await admin.post(`${ADMIN}/projects/${projectId}/features`, { name: 'retry_me' }), 201), 'id');
      const send = () => admin.patch(`${ADMIN}/projects/${projectId}/features/${featureId}`, { description: 'once' }, { headers: { 'idempotency-key': 'change-1' } });
      const first = await send();
      const head = await t.app.store.headPosition();
      const second = await send();
      expect(second.status).toBe(first.status);
      expect(second.body).toEqual(first.body);
      expect(await t.app.store.headPosition()).toBe(head);
    });

    it.each([
      ['an organisation', '/organisations', { name: 'Retried org' }],
      ['a project', '/projects', { organisation: ':organisation', name: 'Retried project' }],
      ['a tag', '/projects/:project/tags', { label: 'retried' }],
      ['a feature', '/projects/:project/features', { name: 'retried_feature' }],
      ['a segment', '/projects/:project/segments', { name: 'retried', rules: SAMPLE_RULES }],
      ['an environment', '/projects/:project/environments', { name: 'Retried' }],
    ] as const)('when the creation of %s is retried with the same Idempotency-Key, then the first answer is repeated and nothing more is written', async (_what, route, body) => {
      const organisationId = num(expectStatus(await admin.get(`${ADMIN}/projects/${projectId}`), 200), 'organisationId');
      const path = `${ADMIN}${route.replace(':project', String(projectId))}`;
      const payload = 'organisation' in body ? { ...body, organisation: organisationId } : body;
      const key = `create-${route}`;
      const first = await admin.post(path, payload, { headers: { 'idempotency-key': key } });
      expect(first.status).toBe(201);
      const head = await t.app.store.headPosition();
      const second = await admin.post(path, payload, { headers: { 'idempotency-key': key } });
      expect({ status: second.status, body: second.body, etag: second.etag }).toEqual({ status: 201, body: first.body, etag: first.etag });
      expect(await t.app.store.headPosition()).toBe(head);
    });

    it('when a user registration is retried with the same Idempotency-Key, then the same user is answered', async () => {
      const send = () => admin.post(`${ADMIN}/users`, { email: 'retried@example.com', name: 'Retried' }, { headers: { 'idempotency-key': 'register-1' } });
      const first = await send();
      expect(first.status).toBe(201);
      const head = await t.app.store.headPosition();
      const second = await send();
      expect({ status: second.status, body: second.body }).toEqual({ status: 201, body: first.body });
      expect(await t.app.store.headPosition()).toBe(head);
    });

    it('when a key issue is retried with the same Idempotency-Key, then the same key is answered, without its secret', async () => {
      const organisationId = num(expectStatus(await admin.get(`${ADMIN}/projects/${projectId}`), 200), 'organisationId');
      const send = () => admin.post(`${ADMIN}/organisations/${organisationId}/api-keys`, { name: 'retried' }, { headers: { 'idempotency-key': 'key-1' } });
      const first = obj(expectStatus(await send(), 201));
      const second = obj(expectStatus(await send(), 201));
      expect(second['id']).toBe(first['id']);
      expect(second['key']).toBeUndefined();
      const listed = (await listAll(admin, `${ADMIN}/organisations/${organisationId}/api-keys`));
      expect(listed.filter((key) => str(key, 'name') === 'retried')).toHaveLength(1);
    });
  });
});
