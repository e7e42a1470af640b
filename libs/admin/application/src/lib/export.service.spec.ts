import { AdminCatalog } from '@flagline/admin-projections';
import { InMemoryEventStore, type ReadAllOptions, type RecordedEvent } from '@flagline/event-sourcing';
import { AdminApplication } from './admin-application';
import type { RequestContext } from './admin-context';

/** A log that counts what is read from it. */
class CountingStore extends InMemoryEventStore {
  readonly pages: number[] = [];
  override async readAll(options?: ReadAllOptions): Promise<readonly RecordedEvent[]> {
    const page = await super.readAll(options);
    this.pages.push(page.length);
    return page;
  }
}

const metadata = { actor: { kind: 'system' as const, id: 'spec' }, occurredAt: '2026-12-06T00:00:00.000Z', correlationId: 'spec' };

describe('Export service', () => {
  it('when the whole log is exported, then it is read a page at a time as the events are taken, up to the head it started at', async () => {
    const log = new CountingStore();
    for (let index = 0; index < 2_500; index++) {
      await log.appendToStream(`sequence-spec-${index % 7}`, [{ id: `e-${index}`, type: 'IdsReserved', data: { from: index, to: index }, metadata }]);
    }
    const catalog = new AdminCatalog();
    const app = new AdminApplication({ store: log, storedLog: log, catalog }, { adminApiKey: 'k'.repeat(32), adminEmail: 'root@example.com' });
    const request: RequestContext = { principal: { kind: 'user', userId: 1, isSuperuser: true, name: 'root' }, correlationId: 'spec' };
    const plan = await app.exports.plan(request, { after: 100 });
    expect(plan).toMatchObject({ head: 2_500, after: 100 });
    const events = plan.events();
    const first = await events.next();
    expect(first.value).toMatchObject({ position: 101, id: 'e-100', streamName: 'sequence-spec-2' });
    // One page read so far, not the log.
    expect(log.pages).toEqual([1_000]);
    // Written after the export started: beyond its head, left for the next export.
    await log.appendToStream('sequence-spec-late', [{ id: 'late', type: 'IdsReserved', data: { from: 0, to: 0 }, metadata }]);
    const positions = [101];
    for await (const event of events) positions.push(event.position);
    expect(positions).toEqual(Array.from({ length: 2_400 }, (_, index) => 101 + index));
    expect(Math.max(...log.pages)).toBeLessThanOrEqual(1_000);
  });

  it('when an export names a time range, then the log is read from the range’s start, found by time, and no further than its end', async () => {
    let now = Date.parse('2026-12-01T00:00:00.000Z');
    const log = new CountingStore(() => new Date(now));
    for (let index = 0; index < 2_500; index++) {
      now += 1_000;
      await log.appendToStream(`sequence-spec-${index % 7}`, [{ id: `e-${index + 1}`, type: 'IdsReserved', data: { from: index, to: index }, metadata }]);
    }
    const recordedAt = (position: number): number => Date.parse('2026-12-01T00:00:00.000Z') + position * 1_000;
    const catalog = new AdminCatalog();
    const app = new AdminApplication({ store: log, storedLog: log, catalog }, { adminApiKey: 'k'.repeat(32), adminEmail: 'root@example.com' });
    const request: RequestContext = { principal: { kind: 'user', userId: 1, isSuperuser: true, name: 'root' }, correlationId: 'spec' };
    const exported = async (query: { after?: number; from?: number; to?: number }): Promise<number[]> => {
      const positions: number[] = [];
      for await (const event of (await app.exports.plan(request, query)).events()) positions.push(event.position);
      return positions;
    };
    const range = (first: number, last: number): number[] => Array.from({ length: last - first + 1 }, (_, index) => first + index);

    log.pages.length = 0;
    expect(await exported({ from: recordedAt(2_001), to: recordedAt(2_100) })).toEqual(range(2_001, 2_100));
    // A search by time (single events and one window) and one page from the start: not the 2,000 events before it.
    expect(log.pages.reduce((sum, size) => sum + size, 0)).toBeLessThan(1_000);
    // A range starting between two events, or before the log, and one past the head.
    expect(await exported({ from: recordedAt(10) - 500, to: recordedAt(12) })).toEqual(range(10, 12));
    expect(await exported({ from: recordedAt(-5), to: recordedAt(3) })).toEqual(range(1, 3));
    expect(await exported({ from: recordedAt(2_499), to: recordedAt(9_999) })).toEqual([2_499, 2_500]);
    expect(await exported({ from: recordedAt(3_000) })).toEqual([]);
    // `after` still bounds the start when it is later than `from`.
    expect(await exported({ after: 2_050, from: recordedAt(2_001), to: recordedAt(2_052) })).toEqual([2_051, 2_052]);
    // Only an end: read from the start, stopped at the end.
    log.pages.length = 0;
    expect(await exported({ to: recordedAt(5) })).toEqual(range(1, 5));
    expect(log.pages).toEqual([1_000]);
  });

  it('when a user who is no administrator exports, then their own user stream comes out, not another user’s nor the id sequence', async () => {
    const log = new InMemoryEventStore();
    await log.appendToStream('sequence-ids', [{ id: 'seq', type: 'IdsReserved', data: { from: 1, to: 10 }, metadata }]);
    await log.appendToStream('user-5', [{ id: 'mine', type: 'UserProfileChanged', data: { userId: 5, name: 'me' }, metadata }]);
    await log.appendToStream('user-6', [{ id: 'theirs', type: 'UserProfileChanged', data: { userId: 6, name: 'them' }, metadata }]);
    const app = new AdminApplication({ store: log, catalog: new AdminCatalog() }, { adminApiKey: 'k'.repeat(32), adminEmail: 'root@example.com' });
    const member: RequestContext = { principal: { kind: 'user', userId: 5, isSuperuser: false, name: 'someone' }, correlationId: 'spec' };
    const seen: string[] = [];
    for await (const event of (await app.exports.plan(member, {})).events()) seen.push(event.id);
    expect(seen).toEqual(['mine']);
  });
});
