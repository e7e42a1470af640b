import { upcastRecordedAdminEvent } from '@flagline/admin-domain';
import { openEvent, SealingEventStore, type SealingPolicy } from '@flagline/event-sealing';
import type { NewEvent, RecordedEvent } from '@flagline/event-sourcing';
import { EmbeddedEventStore, scanLogRecords } from '@flagline/event-store-embedded';
import { newSealingKey } from '@flagline/event-sealing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventsOfBatch, openedRecordText } from './rebuild-parts';
import { LogOrderKeys, openKeyStore } from './sealing';

const policy: SealingPolicy = { sealsStream: (name) => name.startsWith('person-'), personalFields: ['name'] };
const metadata = { actor: { kind: 'system' as const, id: 'spec' }, occurredAt: '2026-12-06T00:00:00.000Z', correlationId: 'rebuild-feed' };
let sequence = 0;
const event = (data: NewEvent['data']): NewEvent => ({ id: `e-${++sequence}`, type: 'PersonSeen', data, metadata });
/** A stream's first event as `LogOrderKeys` is asked for it. */
const firstOf = (streamName: string): RecordedEvent => ({ id: 'x', type: 'PersonSeen', data: {}, metadata, streamName, streamRevision: 0, globalPosition: 1, recordedAt: metadata.occurredAt });

// 5,000 keys made and made durable: seconds on a loaded host.
jest.setTimeout(60_000);

describe('the rebuild feed', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'flagline-rebuild-feed-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('finds the key the store holds for every stream, in the order keys were made or not, past the pages it keeps, and none for a destroyed one', async () => {
    const keys = openKeyStore(dataDir);
    try {
      const owners = Array.from({ length: 5_000 }, (_, index) => `person-${index}`);
      const made = await Promise.all(owners.map((owner) => keys.ensure(owner, newSealingKey())));
      expect(await keys.destroy('person-2500')).toBe(true);
      const inOrder = new LogOrderKeys(keys);
      owners.forEach((owner, index) => expect(inOrder.keyFor(firstOf(owner))).toEqual(index === 2500 ? undefined : made[index]));
      // Asked again out of order (a stream's later events, streams far behind the pages kept, and an unknown one).
      const later = new LogOrderKeys(keys);
      for (const index of [4_999, 0, 17, 4_000, 2_500]) expect(later.keyFor({ ...firstOf(`person-${index}`), streamRevision: 3 })).toEqual(index === 2500 ? undefined : made[index]);
      expect(later.keyFor(firstOf('person-none'))).toBeUndefined();
    } finally {
      await keys.close();
    }
  });

  it('hands each worker records that decode to the events as the app reads them: opened, erased once their key is gone, unsealed ones as they are, cut at the head', async () => {
    const log = await EmbeddedEventStore.open({ directory: join(dataDir, 'events') });
    const keys = openKeyStore(dataDir);
    try {
      const sealing = new SealingEventStore(log, keys, policy);
      await sealing.appendToStream('person-1', [event({ personId: 1, name: 'Ada' }), event({ personId: 1, name: 'Ada L.' })]);
      await sealing.appendToStream('project-1', [event({ name: 'Storefront' })]);
      await sealing.appendToStream('person-2', [event({ personId: 2, name: 'Grace', tags: ['a', 'é'] })]);
      await sealing.appendToStream('person-3', [event({ personId: 3, name: 'Alan' }), event({ personId: 3, name: 'Turing' })]);
      await keys.destroy('person-2');
      const expected = (await log.readAll()).map((stored) => upcastRecordedAdminEvent(openEvent(stored, keys.getNow(stored.streamName))));
      expect(expected.map((opened) => opened.data)).toContainEqual({ personId: 2, tags: ['a', 'é'], erased: true });
      expect(expected.map((opened) => opened.data)).toContainEqual({ personId: 1, name: 'Ada' });

      const order = new LogOrderKeys(keys);
      const fed: RecordedEvent[] = [];
      for await (const records of scanLogRecords({ directory: join(dataDir, 'events'), upTo: 5, batchEvents: 2 })) {
        const texts = records.map((record) => openedRecordText(record, order));
        // The project's record is not sealed: handed on as the log holds it.
        for (const record of records) if (record.events[0]?.streamName === 'project-1') expect(texts).toContain(record.text);
        fed.push(...eventsOfBatch({ kind: 'batch', records: texts }, 5));
      }
      expect(fed).toEqual(expected.slice(0, 5));
      expect(JSON.stringify(fed)).not.toContain('"sealed"');
    } finally {
      await keys.close();
      await log.close();
    }
  });
});
