import type { RunningCommandService } from './command-service';

type Json = Record<string, unknown>;

async function call(service: RunningCommandService, key: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: Json; position: number | null }> {
  const response = await fetch(`${service.url}/admin/v1${path}`, {
    method,
    headers: { Authorization: `Api-Key ${key}`, 'Content-Type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  const header = response.headers.get('x-flagline-position');
  return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Json), position: header === null ? null : Number(header) };
}

async function ok(service: RunningCommandService, key: string, method: string, path: string, body?: unknown): Promise<Json> {
  const answer = await call(service, key, method, path, body);
  if (answer.status >= 300) throw new Error(`${method} ${path}: HTTP ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

/**
 * Time travel on the command service, whatever its event store: a feature state read as of each
 * point it passed through (by the position a read reported and by a time), a deleted feature read
 * as of before its deletion, and the diff between two points with the events behind the change.
 */
export async function checkCommandServiceTimeTravel(service: RunningCommandService, adminKey: string): Promise<void> {
  const organisation = await ok(service, adminKey, 'POST', '/organisations', { name: 'Travelled' });
  const projectId = (await ok(service, adminKey, 'POST', '/projects', { organisation: organisation['id'], name: 'Travelled project' }))['id'] as number;
  const environmentId = (await ok(service, adminKey, 'POST', `/projects/${projectId}/environments`, { name: 'Production' }))['id'] as number;
  const featureId = (await ok(service, adminKey, 'POST', `/projects/${projectId}/features`, { name: 'travelled_flag', initialValue: 'v1' }))['id'] as number;
  const state = `/environments/${environmentId}/feature-states/${featureId}`;

  const points: { body: Json; position: number; time: string }[] = [];
  for (const value of ['v2', 'v3']) {
    await ok(service, adminKey, 'PATCH', state, { enabled: true, value });
    const read = await call(service, adminKey, 'GET', state);
    if (read.position === null) throw new Error('X-Flagline-Position missing on a read of state');
    await pause();
    points.push({ body: read.body, position: read.position, time: new Date().toISOString() });
    await pause();
  }
  for (const point of points) {
    for (const asOf of [String(point.position), point.time]) {
      const then = await call(service, adminKey, 'GET', `${state}?asOf=${encodeURIComponent(asOf)}`);
      expect({ status: then.status, body: then.body, position: then.position }).toEqual({ status: 200, body: point.body, position: point.position });
    }
  }

  const [first, second] = points;
  if (!first || !second) throw new Error('points missing');
  const diff = await ok(service, adminKey, 'GET', `/projects/${projectId}/diff?from=${first.position}&to=${second.position}`);
  expect(diff['changes']).toEqual([
    expect.objectContaining({ entity: expect.objectContaining({ kind: 'featureState', id: `${environmentId}:${featureId}` }) as unknown, field: 'value', before: 'v2', after: 'v3', events: [expect.objectContaining({ type: 'FeatureStateChanged' })] }),
  ]);

  const feature = `/projects/${projectId}/features/${featureId}`;
  const before = await call(service, adminKey, 'GET', feature);
  expect((await call(service, adminKey, 'DELETE', feature)).status).toBe(204);
  expect((await call(service, adminKey, 'GET', feature)).status).toBe(404);
  expect((await call(service, adminKey, 'GET', `${feature}?asOf=${String(before.position)}`)).body).toEqual(before.body);
  expect((await call(service, adminKey, 'GET', `${feature}?asOf=not-a-point`)).status).toBe(400);
}
