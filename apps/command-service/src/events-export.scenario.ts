import { canonicalEventBytes, type CanonicalEventFields, type EventStore } from '@flagline/event-sourcing';
import type { RunningCommandService } from './command-service';

type Json = Record<string, unknown>;

async function call(service: RunningCommandService, key: string, method: string, path: string, body?: unknown): Promise<Json> {
  const response = await fetch(`${service.url}/admin/v1${path}`, {
    method,
    headers: { Authorization: `Api-Key ${key}`, 'Content-Type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (response.status >= 300) throw new Error(`${method} ${path}: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as Json;
}

/**
 * The export route of the command service, whatever its event store: a project's events come
 * out exactly as the store keeps them (the same canonical bytes as a raw read of their streams),
 * and another organisation's key reads none of them.
 */
export async function checkCommandServiceExport(service: RunningCommandService, adminKey: string, storedLog: EventStore): Promise<void> {
  const organisation = await call(service, adminKey, 'POST', '/organisations', { name: 'Exported' });
  const project = await call(service, adminKey, 'POST', '/projects', { organisation: organisation['id'], name: 'Exported project' });
  const projectId = project['id'] as number;
  const environment = await call(service, adminKey, 'POST', `/projects/${projectId}/environments`, { name: 'Production' });
  await call(service, adminKey, 'POST', `/projects/${projectId}/features`, { name: 'exported_flag', initialValue: 'on' });
  await call(service, adminKey, 'POST', `/environments/${String(environment['id'])}/identities`, { identifier: 'ada', traits: { plan: 'pro' } });
  const other = await call(service, adminKey, 'POST', '/organisations', { name: 'Other' });
  const otherKey = (await call(service, adminKey, 'POST', `/organisations/${String(other['id'])}/api-keys`, { name: 'reader', role: 'member' }))['key'] as string;

  const exportOf = async (key: string, query: string): Promise<{ lines: (CanonicalEventFields & { position: number })[]; head: number }> => {
    const response = await fetch(`${service.url}/admin/v1/events/export${query}`, { headers: { Authorization: `Api-Key ${key}` } });
    if (response.status !== 200) throw new Error(`export: HTTP ${response.status} ${await response.text()}`);
    const text = await response.text();
    const lines = text
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as CanonicalEventFields & { position: number });
    return { lines, head: Number(response.headers.get('x-flagline-position')) };
  };
  const { lines, head } = await exportOf(adminKey, `?entity=project:${projectId}`);
  const types = lines.map((line) => line.type);
  if (!['ProjectCreated', 'EnvironmentCreated', 'FeatureCreated', 'IdentityCreated'].every((type) => types.includes(type))) throw new Error(`the project's export lacks events: ${types.join(', ')}`);
  for (const line of lines) {
    if (line.position > head) throw new Error(`line at ${line.position} is past the head ${head}`);
    const [stored] = (await storedLog.readStream(line.streamName, { fromRevision: line.streamRevision, maxCount: 1 })).events;
    if (!stored || stored.id !== line.id || stored.globalPosition !== line.position || !canonicalEventBytes(stored).equals(canonicalEventBytes(line)))
      throw new Error(`line ${line.id} (${line.type}) is not the stored event`);
  }
  const refused = await fetch(`${service.url}/admin/v1/events/export?entity=project:${projectId}`, { headers: { Authorization: `Api-Key ${otherKey}` } });
  if (refused.status !== 404) throw new Error(`another organisation's key got HTTP ${refused.status} for the project's export`);
  const theirs = await exportOf(otherKey, '');
  if (theirs.lines.some((line) => line.streamName === `project-${projectId}` || line.streamName.startsWith('identity-'))) throw new Error("another organisation's key read the project's events");
}
