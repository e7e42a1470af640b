import { canonicalEventBytes, type RecordedEvent } from '@flagline/event-sourcing';
import { EmbeddedEventStore } from '@flagline/event-store-embedded';
import { identityIdFor, identityIdsWith } from '@flagline/admin-domain';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importEvents, MissingIdentityIdsError } from './import-events';

const metadata = { actor: { kind: 'user', id: '1', name: 'admin@flagline.local' }, occurredAt: '2026-12-01T10:00:00.000Z', correlationId: 'c-1' };
const line = (position: number, streamName: string, streamRevision: number, recordedAt: string, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ position, id: `00000000-0000-4000-8000-${String(position).padStart(12, '0')}`, type: 'TagCreated', streamName, streamRevision, data: { tagId: position, label: `t${position}` }, metadata, recordedAt, ...extra });

describe('npm run import', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flagline-import-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('when an export is imported, then the log holds the same events: ids, streams, revisions and recording times, in order', async () => {
    const lines = [
      line(4, 'project-1', 0, '2026-12-01T10:00:00.001Z'),
      line(5, 'project-1', 1, '2026-12-01T10:00:00.001Z'),
      line(9, 'project-2', 0, '2026-12-01T10:00:01.500Z'),
      line(12, 'project-1', 2, '2026-12-01T10:00:02.000Z'),
    ];
    await writeFile(join(dir, 'in.ndjson'), `${lines.join('\n')}\n`);
    expect(await importEvents(join(dir, 'data'), join(dir, 'in.ndjson'))).toEqual({ events: 4, streams: 2, head: 4 });
    const store = await EmbeddedEventStore.open({ directory: join(dir, 'data', 'events') });
    try {
      const stored = await store.readAll({});
      expect(stored.map((event: RecordedEvent) => canonicalEventBytes(event).toString('utf8'))).toEqual(lines.map((text) => canonicalEventBytes(JSON.parse(text) as RecordedEvent).toString('utf8')));
    } finally {
      await store.close();
    }
  });

  it('when a stream misses a revision or a line was redacted, then the import stops naming the line', async () => {
    await writeFile(join(dir, 'gap.ndjson'), [line(1, 'project-1', 0, '2026-12-01T10:00:00.000Z'), line(3, 'project-1', 2, '2026-12-01T10:00:01.000Z')].join('\n'));
    await expect(importEvents(join(dir, 'a'), join(dir, 'gap.ndjson'))).rejects.toThrow(/^line 2: event .* is revision 2 of project-1, which is at revision 0/);
    await writeFile(join(dir, 'redacted.ndjson'), line(1, 'organisation-1', 0, '2026-12-01T10:00:00.000Z', { redacted: ['data.userId'] }));
    await expect(importEvents(join(dir, 'b'), join(dir, 'redacted.ndjson'))).rejects.toThrow(/^line 1: the exporting key could not read this event in full/);
    await writeFile(join(dir, 'bad.ndjson'), '{"position":1,"id":"x","type":"T","streamName":"s","streamRevision":-1,"data":{},"metadata":{},"recordedAt":"yesterday"}\n');
    await expect(importEvents(join(dir, 'c'), join(dir, 'bad.ndjson'))).rejects.toThrow('line 1: missing or bad streamRevision, metadata, recordedAt');
  });

  it('when identity streams are imported into a directory without identity-id-key, then the import fails naming the file, unless the export shows unkeyed ids', async () => {
    const identity = (position: number, identityId: string, data: Record<string, unknown>): string =>
      line(position, `identity-${identityId}`, 0, '2026-12-01T10:00:00.000Z', { type: 'IdentityCreated', data: { identityId, projectId: 1, environmentId: 20, ...data } });
    const keyed = identityIdsWith(Buffer.alloc(32, 7))(20, 'ada');
    // Sealed identifiers (what an export of today's log holds): nothing shows how ids were derived.
    await writeFile(join(dir, 'sealed.ndjson'), `${identity(1, keyed, { sealed: 'box' })}\n`);
    await expect(importEvents(join(dir, 'a'), join(dir, 'sealed.ndjson'))).rejects.toThrow(MissingIdentityIdsError);
    await expect(importEvents(join(dir, 'b'), join(dir, 'sealed.ndjson')).catch((error: Error) => error.message)).resolves.toMatch(/1 identity streams were appended.*identity-id-key is missing: copy identity-id-key from the source data directory/);
    // With the source's file copied beside it, the import finishes.
    await mkdir(join(dir, 'c'));
    await writeFile(join(dir, 'c', 'identity-id-key'), `hmac-sha256:${Buffer.alloc(32, 7).toString('base64')}\n`);
    await expect(importEvents(join(dir, 'c'), join(dir, 'sealed.ndjson'))).resolves.toEqual({ events: 1, streams: 1, head: 1 });
    // An identifier in clear whose id is not its unkeyed digest: a keyed source.
    await writeFile(join(dir, 'keyed.ndjson'), `${identity(1, keyed, { identifier: 'ada' })}\n`);
    await expect(importEvents(join(dir, 'd'), join(dir, 'keyed.ndjson'))).rejects.toThrow(/\(keyed: not the unkeyed digest of their identifiers\)/);
    // An identifier in clear with its unkeyed digest as id: recorded as unkeyed, as the source was.
    await writeFile(join(dir, 'unkeyed.ndjson'), `${identity(1, identityIdFor(20, 'ada'), { identifier: 'ada' })}\n`);
    await expect(importEvents(join(dir, 'e'), join(dir, 'unkeyed.ndjson'))).resolves.toEqual({ events: 1, streams: 1, head: 1 });
    expect(await readFile(join(dir, 'e', 'identity-id-key'), 'utf8')).toBe('sha256\n');
    // No identities, no file needed.
    await writeFile(join(dir, 'tags.ndjson'), `${line(1, 'project-1', 0, '2026-12-01T10:00:00.000Z')}\n`);
    await expect(importEvents(join(dir, 'f'), join(dir, 'tags.ndjson'))).resolves.toEqual({ events: 1, streams: 1, head: 1 });
  });
});
