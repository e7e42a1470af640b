import { execFileSync } from 'node:child_process';
import { startTestApp, type TestApp } from '../../apps/standalone/src/testing/http-harness';
import { KEY_KINDS, keyIdFor, operationsWithMethod, pathParameters, schemathesisConfig } from './config';
import type { FixtureParameters } from './fixtures';

const fixture = (base: number, tag: string): FixtureParameters => ({
  organisationId: base + 1,
  userId: base + 2,
  projectId: base + 3,
  environment: base + 4,
  featureId: base + 5,
  optionId: base + 6,
  segmentId: base + 7,
  spareSegmentId: base + 9,
  tagId: base + 8,
  identifier: `${tag}@example.com`,
  userKeyId: `${tag}-user-key`,
  organisationKeyId: `${tag}-org-key`,
  serverKeyId: `${tag}-server-key`,
  serverKey: `ser.${tag}`,
  invitationId: `${tag}-invitation`,
  flagKey: `${tag}_flag`,
});

describe('the fuzzer’s Schemathesis configuration', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });

  afterAll(async () => {
    await t.dispose();
  });

  it('finds a kind of key for every DELETE path of the document that names a key id', async () => {
    const document = (await (await fetch(`${t.app.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const deletes = operationsWithMethod(document, 'delete');
    expect(deletes.length).toBeGreaterThan(10);
    const withKey = deletes.map((name) => name.slice('DELETE '.length)).filter((path) => path.includes('{keyId}'));
    expect(withKey.length).toBe(KEY_KINDS.length);
    const set = fixture(0, 'doomed');
    expect(withKey.map((path) => keyIdFor(path, set)).sort()).toEqual(['doomed-org-key', 'doomed-server-key', 'doomed-user-key']);
    expect(keyIdFor('/admin/v1/projects/{projectId}', set)).toBeUndefined();
  });

  it('is TOML that pins path parameters to the live fixture, each listed operation to its own, and sends each scheme its key', () => {
    const doomed = fixture(100, 'doomed');
    const text = schemathesisConfig('admin-key', fixture(0, 'live'), [
      { name: 'DELETE /admin/v1/projects/{projectId}', parameters: pathParameters(doomed) },
      { name: 'POST /admin/v1/invitations/{invitationId}/accept', parameters: { 'path.invitationId': 'theirs' }, apiKey: 'user-key' },
    ]);
    const script = 'import json, sys, tomllib; print(json.dumps(tomllib.loads(sys.stdin.read())))';
    const parsed = JSON.parse(execFileSync('python3', ['-c', script], { input: text }).toString()) as {
      auth: { openapi: Record<string, Record<string, string>> };
      warnings: { 'fail-on': string[] };
      phases: { examples: { 'fill-missing': boolean } };
      parameters: Record<string, unknown>;
      operations: { 'include-name': string; parameters: Record<string, unknown>; headers?: Record<string, string> }[];
    };
    expect(parsed.auth.openapi).toEqual({
      'api-key': { api_key: 'Api-Key admin-key' },
      'environment-key': { api_key: 'ser.live' },
      'ofrep-api-key': { api_key: 'ser.live' },
      'ofrep-bearer': { bearer: 'ser.live' },
    });
    expect(parsed.warnings['fail-on']).toEqual(['missing_test_data', 'validation_mismatch']);
    expect(parsed.phases.examples['fill-missing']).toBe(true);
    expect(parsed.parameters).toMatchObject({ 'path.projectId': 3, 'path.identifier': 'live@example.com', 'path.keyId': 'live-server-key', 'path.key': 'live_flag' });
    expect(parsed.operations).toEqual([
      { 'include-name': 'DELETE /admin/v1/projects/{projectId}', parameters: expect.objectContaining({ 'path.projectId': 103, 'path.environment': 104 }) },
      { 'include-name': 'POST /admin/v1/invitations/{invitationId}/accept', parameters: { 'path.invitationId': 'theirs' }, headers: { Authorization: 'Api-Key user-key' } },
    ]);
  });
});
