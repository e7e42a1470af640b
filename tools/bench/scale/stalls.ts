import { readFile } from 'node:fs/promises';

/** One window written by tools/bench/scale/event-loop-delay.cjs (LOOP_DELAY_FILE): when it ended, the loop's delay, the collections in it. */
export interface LoopWindow {
  readonly at: string;
  readonly loopDelayMs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly gc: Readonly<Record<string, { readonly count: number; readonly ms: number; readonly longest: number }>>;
  /** Bytes the window's scavenges promoted to the old generation (absent in lines written before it was recorded). */
  readonly promotedBytes?: number;
}

/** The windows of `file` that ended between `fromMs` and `toMs` (epoch ms); none when the file is missing. */
export async function loopStallsBetween(file: string, fromMs: number, toMs: number): Promise<LoopWindow[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return [];
  }
  const windows: LoopWindow[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const window = JSON.parse(line) as LoopWindow;
    const at = Date.parse(window.at);
    if (at >= fromMs && at <= toMs) windows.push(window);
  }
  return windows;
}

/**
 * One line: the worst event-loop delay over the windows, each kind of collection's count and
 * longest pause, and what scavenges promoted to the old generation (per request, given `requests`).
 */
export function summariseStalls(windows: readonly LoopWindow[], requests?: number): string {
  if (windows.length === 0) return 'stalls: no event-loop windows recorded';
  const worst = (pick: (window: LoopWindow) => number): number => windows.reduce((most, window) => Math.max(most, pick(window)), 0);
  const kinds = new Map<string, { count: number; ms: number; longest: number }>();
  for (const window of windows) {
    for (const [kind, seen] of Object.entries(window.gc)) {
      const total = kinds.get(kind) ?? { count: 0, ms: 0, longest: 0 };
      kinds.set(kind, { count: total.count + seen.count, ms: total.ms + seen.ms, longest: Math.max(total.longest, seen.longest) });
    }
  }
  const collections = [...kinds].map(([kind, total]) => `${kind} ${total.count} (${total.ms.toFixed(0)} ms, longest ${total.longest.toFixed(1)} ms)`);
  return (
    `stalls in ${windows.length} windows of 1 s: event-loop delay p50 ${worst((window) => window.loopDelayMs.p50).toFixed(1)}, p99 up to ${worst((window) => window.loopDelayMs.p99).toFixed(1)}, ` +
    `max ${worst((window) => window.loopDelayMs.max).toFixed(1)} ms; ${collections.length > 0 ? collections.join(', ') : 'no collections'}` +
    promotedSummary(windows, requests)
  );
}

function promotedSummary(windows: readonly LoopWindow[], requests: number | undefined): string {
  if (windows.some((window) => window.promotedBytes === undefined)) return '';
  const promoted = windows.reduce((sum, window) => sum + (window.promotedBytes ?? 0), 0);
  const perRequest = requests !== undefined && requests > 0 ? `, ${Math.round(promoted / requests)} B per request` : '';
  return `; promoted to the old generation ${(promoted / 1e6).toFixed(1)} MB${perRequest}`;
}
