import { execFileSync } from 'node:child_process';
import { startTestApp, type TestApp } from '../../apps/standalone/src/testing/http-harness';
import { DELETE_GROUPS, schemathesisConfig } from './config';
import type { FixtureParameters } from './fixtures';

const fixture = (base: number, tag: string): FixtureParameters => ({
  organisationId: base + 1,
  userId: base + 2,
  projectId: base + 3,
  environment: base + 4,
  featureId: base + 5,
  optionId: base + 6,
  segmentId: base + 7,
  tagId: base + 8,
  identifier: `${tag}@example.com`,
  userKeyId: `${tag}-user-key`,
  organisationKeyId: `${tag}-org-key`,
  serverKeyId: `${tag}-server-key`,
  serverKey: `ser.${tag}`,
});

describe('the fuzzer’s Schemathesis configuration', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });

  afterAll(async () => {
    await t.dispose();
  });

  it('puts every DELETE operation of the document in exactly one group of the second fixture', async () => {
    const document = (await (await fetch(`${t.app.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const deletes = Object.entries(document.paths)
      .filter(([, operations]) => 'delete' in operations)
      .map(([path]) => path);
    expect(deletes.length).toBeGreaterThan(10);
    const ungrouped = deletes.filter((path) => DELETE_GROUPS.filter((group) => new RegExp(group.pathRegex).test(path)).length !== 1);
    expect(ungrouped).toEqual([]);
    // Paths that name a key id are in the group that supplies that kind of key.
    for (const path of deletes.filter((candidate) => candidate.includes('{keyId}'))) {
      expect(DELETE_GROUPS.find((group) => new RegExp(group.pathRegex).test(path))?.keyId).not.toBeNull();
    }
  });

  it('is TOML that pins path parameters to the live fixture, DELETEs to the other, and sends each scheme its key', () => {
    const text = schemathesisConfig('admin-key', fixture(0, 'live'), fixture(100, 'doomed'));
    const script = 'import json, sys, tomllib; print(json.dumps(tomllib.loads(sys.stdin.read())))';
    const parsed = JSON.parse(execFileSync('python3', ['-c', script], { input: text }).toString()) as {
      auth: { openapi: Record<string, Record<string, string>> };
      parameters: Record<string, unknown>;
      operations: { 'include-method-regex': string; 'include-path-regex': string; parameters: Record<string, unknown> }[];
    };
    expect(parsed.auth.openapi).toEqual({
      'api-key': { api_key: 'Api-Key admin-key' },
      'environment-key': { api_key: 'ser.live' },
      'ofrep-api-key': { api_key: 'ser.live' },
      'ofrep-bearer': { bearer: 'ser.live' },
    });
    expect(parsed.parameters).toMatchObject({ 'path.projectId': 3, 'path.identifier': 'live@example.com' });
    expect(parsed.operations.map((operation) => operation['include-path-regex'])).toEqual(DELETE_GROUPS.map((group) => group.pathRegex));
    for (const operation of parsed.operations) {
      expect(operation['include-method-regex']).toBe('^DELETE$');
      expect(operation.parameters).toMatchObject({ 'path.projectId': 103, 'path.environment': 104 });
    }
    expect(parsed.operations[0]?.parameters['path.keyId']).toBe('doomed-user-key');
  });
});
