import { canonicalEventBytes, type RecordedEvent } from '@flagline/event-sourcing';
import { EmbeddedEventStore } from '@flagline/event-store-embedded';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importEvents } from './import-events';

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
});
