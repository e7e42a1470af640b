import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loopStallsBetween, summariseStalls, type LoopWindow } from './stalls';

const window = (at: string, max: number, gc: LoopWindow['gc']): LoopWindow => ({ at, loopDelayMs: { p50: 1.1, p99: max / 2, max }, gc });

describe('event-loop stalls of a run', () => {
  it('keeps the windows that ended within the run and sums each kind of collection', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'flagline-stalls-'));
    try {
      const file = join(directory, 'loop-delay.jsonl');
      const lines = [
        window('2026-12-06T10:00:00.500Z', 400, { 'mark-compact': { count: 1, ms: 300, longest: 300 } }),
        window('2026-12-06T10:00:01.500Z', 12, { scavenge: { count: 10, ms: 9, longest: 1.5 } }),
        window('2026-12-06T10:00:02.500Z', 30, { scavenge: { count: 12, ms: 14, longest: 2.5 }, 'mark-compact': { count: 1, ms: 25, longest: 25 } }),
        window('2026-12-06T10:00:03.500Z', 900, {}),
      ];
      writeFileSync(file, `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`);
      const within = await loopStallsBetween(file, Date.parse('2026-12-06T10:00:01Z'), Date.parse('2026-12-06T10:00:03Z'));
      expect(within.map((line) => line.at)).toEqual(['2026-12-06T10:00:01.500Z', '2026-12-06T10:00:02.500Z']);
      expect(summariseStalls(within)).toBe(
        'stalls in 2 windows of 1 s: event-loop delay p50 1.1, p99 up to 15.0, max 30.0 ms; scavenge 22 (23 ms, longest 2.5 ms), mark-compact 1 (25 ms, longest 25.0 ms)',
      );
      expect(await loopStallsBetween(join(directory, 'missing.jsonl'), 0, Date.now())).toEqual([]);
      expect(summariseStalls([])).toBe('stalls: no event-loop windows recorded');
      // Windows that record what scavenges promoted: summed, and per request when the run's requests are given.
      const promoting = within.map((line, index) => ({ ...line, promotedBytes: 1_500_000 * (index + 1) }));
      expect(summariseStalls(promoting, 90_000)).toMatch(/; promoted to the old generation 4\.5 MB, 50 B per request$/);
      expect(summariseStalls(promoting)).toMatch(/; promoted to the old generation 4\.5 MB$/);
      // One window without the figure (an older preload): no promoted figure at all, rather than a partial sum.
      expect(summariseStalls([promoting[0] as LoopWindow, within[1] as LoopWindow], 90_000)).not.toContain('promoted');
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
