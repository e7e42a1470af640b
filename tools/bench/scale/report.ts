/** The figures of issue 15, how each is judged, and the one table `npm run bench:scale` prints. */

/** One measured value, or why there is none (`n/a (no rebuild command)`, an error). */
export interface Measured {
  readonly value: number | null;
  /** Shown instead of, or after, the value: `n/a (…)`, `error: …`, `12/200 missing`. */
  readonly note?: string;
}

export type Results = Record<string, Measured>;

interface Figure {
  readonly key: string;
  readonly label: string;
  /** Digits shown after the point. */
  readonly digits: number;
  /** What meets the target, or none for figures reported for context. */
  readonly target?: { readonly text: string; readonly met: (value: number) => boolean };
}

const atMost = (limit: number, unit = ''): Figure['target'] => ({ text: `<= ${limit.toLocaleString('en')}${unit}`, met: (value) => value <= limit });
const below = (limit: number, unit = ''): Figure['target'] => ({ text: `< ${limit.toLocaleString('en')}${unit}`, met: (value) => value < limit });
const atLeast = (limit: number, unit = ''): Figure['target'] => ({ text: `>= ${limit.toLocaleString('en')}${unit}`, met: (value) => value >= limit });

export const FIGURES: readonly Figure[] = [
  { key: 'identities', label: 'identities loaded (N)', digits: 0 },
  { key: 'load.rate', label: '1. load: identities/s (50 conns)', digits: 0 },
  { key: 'load.errors', label: '1. load: failed requests', digits: 0, target: atMost(0) },
  { key: 'load.rssPeak', label: '1. RSS peak while loading (MB)', digits: 0 },
  { key: 'load.rss', label: '1. RSS after loading (MB)', digits: 0, target: atMost(600) },
  { key: 'events', label: '   events in the log', digits: 0 },
  { key: 'restart.seconds', label: '2. restart to ready (s)', digits: 2, target: atMost(5) },
  { key: 'restart.rssPeak', label: '2. RSS peak during restart (MB)', digits: 0 },
  { key: 'restart.rss', label: '2. RSS after restart (MB)', digits: 0, target: atMost(600) },
  { key: 'restart.check', label: '2. start-up Merkle check done (s after start)', digits: 1 },
  { key: 'restart.stored', label: '2. sampled identities intact after restart (missing)', digits: 0, target: atMost(0) },
  { key: 'stored.warmP99', label: '3. identify stored p99 while warming up, beside the start-up check (ms)', digits: 2 },
  { key: 'stored.settleP99', label: '3. identify stored p99, the first 2 s on new connections after the check (ms)', digits: 2 },
  { key: 'stored.p99', label: '3. identify stored p99 (ms, 50 conns)', digits: 2, target: below(5) },
  { key: 'stored.p999', label: '3. identify stored p99.9 (ms)', digits: 2 },
  { key: 'stored.p50', label: '3. identify stored p50 (ms)', digits: 2 },
  { key: 'stored.rate', label: '3. identify stored req/s', digits: 0 },
  { key: 'stored.cpu', label: '3. server CPU per stored identify (µs)', digits: 0 },
  { key: 'stored.rss', label: '3. RSS after the stored identifies (MB)', digits: 0, target: atMost(600) },
  { key: 'stored.rssSustained', label: '3. RSS after a minute of working sets of them (MB)', digits: 0, target: atMost(600) },
  { key: 'new.rate', label: '4. identify new identities/s (server unpinned)', digits: 0, target: atLeast(15_000) },
  { key: 'transient.rate', label: '4. identify transient/s (server unpinned)', digits: 0 },
  { key: 'new.ratio', label: '4. new / transient (server unpinned)', digits: 2, target: atLeast(0.6) },
  { key: 'new.floorRate', label: '4. the floor: new identities/s of a bare server that evaluates as the app and stores them durably', digits: 0 },
  { key: 'new.floorRatio', label: '4. the floor\'s own new / transient', digits: 2 },
  { key: 'new.floor2Rate', label: '4. the floor on 2 processes, one log: new identities/s', digits: 0 },
  { key: 'new.floor2Ratio', label: '4. the floor on 2 processes: its own new / transient', digits: 2 },
  { key: 'new.cpu', label: '4. server CPU per new identity, all threads (µs)', digits: 0 },
  { key: 'new.mainCpu', label: '4. of it, the main thread (µs)', digits: 0 },
  { key: 'new.floorCpu', label: '4. the floor\'s CPU per new identity, all threads (µs)', digits: 0 },
  { key: 'new.floor2Cpu', label: '4. the floor on 2 processes: CPU per new identity (µs)', digits: 0 },
  { key: 'transient.cpu', label: '4. server CPU per transient identify (µs)', digits: 0 },
  { key: 'new.pinned.rate', label: '4. new identities/s, server pinned to CPU 0', digits: 0 },
  { key: 'transient.pinned.rate', label: '4. transient/s, server pinned to CPU 0', digits: 0 },
  { key: 'new.pinned.ratio', label: '4. new / transient, server pinned', digits: 2 },
  { key: 'new.pinned.cpu', label: '4. server CPU per new identity, pinned (µs)', digits: 0 },
  { key: 'new.pinned.mainCpu', label: '4. of it, the main thread, pinned (µs)', digits: 0 },
  { key: 'transient.pinned.cpu', label: '4. server CPU per transient, pinned (µs)', digits: 0 },
  { key: 'new.missing', label: '4. acknowledged new identities missing (sampled)', digits: 0, target: atMost(0) },
  { key: 'features.create10', label: '5. create 10th feature, to served (ms)', digits: 1 },
  { key: 'features.createN', label: '5. create Fth feature, to served (ms)', digits: 1 },
  { key: 'features.createRatio', label: '5. create Fth / 10th', digits: 2, target: atMost(1.5) },
  { key: 'features.toggle10', label: '5. toggle at 10 features, to served (ms)', digits: 1 },
  { key: 'features.toggleN', label: '5. toggle at F features, to served (ms)', digits: 1 },
  { key: 'features.toggleRatio', label: '5. toggle at F / at 10', digits: 2, target: atMost(1.5) },
  { key: 'features.propagationP99', label: '5. propagation p99 at F features (ms)', digits: 1, target: below(20) },
  { key: 'rebuild.rate', label: '6. rebuild events/s', digits: 0, target: atLeast(100_000) },
  { key: 'rebuild.seconds', label: '6. rebuild seconds', digits: 2 },
  { key: 'rebuild.floorRate', label: '6. the floor: events/s of a bare rebuild of identity documents and catalog rows', digits: 0 },
  { key: 'rebuild.differs', label: '6. read models differing from the rebuild', digits: 0, target: atMost(0) },
  { key: 'command.seconds', label: '7. command service start to ready (s)', digits: 2, target: atMost(10) },
  { key: 'command.rss', label: '7. command service RSS (MB)', digits: 0, target: atMost(300) },
  { key: 'projector.rate', label: '7. projector events/s per partition', digits: 0, target: atLeast(20_000) },
];

const NOTE_WIDTH = 48;

export function formatMeasured(figure: Pick<Figure, 'digits'>, measured: Measured | undefined): string {
  if (measured === undefined) return '-';
  const value =
    measured.value === null ? '' : measured.value.toLocaleString('en', { minimumFractionDigits: figure.digits, maximumFractionDigits: figure.digits });
  if (measured.note === undefined) return value;
  // The JSON keeps the whole note; the table a line's worth of it.
  const note = measured.note.length > NOTE_WIDTH ? `${measured.note.slice(0, NOTE_WIDTH - 1)}…` : measured.note;
  return value === '' ? note : `${value} (${note})`;
}

/** `yes`/`no` when the figure has a target and a value, `-` otherwise. */
export function met(figure: Pick<Figure, 'target'>, measured: Measured | undefined): string {
  if (figure.target === undefined || measured === undefined || measured.value === null) return '-';
  return figure.target.met(measured.value) ? 'yes' : 'no';
}

export interface Column {
  readonly title: string;
  readonly results: Results;
}

/** figure | <column>… | target | met (of the last column), as aligned text. */
export function renderTable(columns: readonly Column[], figures: readonly Figure[] = FIGURES): string {
  const last = columns[columns.length - 1];
  const rows = [
    ['figure', ...columns.map((column) => column.title), 'target', 'met'],
    ...figures.map((figure) => [
      figure.label,
      ...columns.map((column) => formatMeasured(figure, column.results[figure.key])),
      figure.target?.text ?? '',
      met(figure, last?.results[figure.key]),
    ]),
  ];
  const widths = (rows[0] as string[]).map((_, index) => Math.max(...rows.map((row) => (row[index] as string).length)));
  const line = (row: string[]) => row.map((cell, index) => cell.padEnd(widths[index] as number)).join(' | ').trimEnd();
  return [line(rows[0] as string[]), widths.map((width) => '-'.repeat(width)).join('-|-'), ...rows.slice(1).map(line)].join('\n');
}

export function percentile(values: readonly number[], fraction: number): number {
  if (values.length === 0) throw new Error('percentile of no values');
  const sorted = [...values].sort((x, y) => x - y);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[rank] as number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** The last line of a command's output that is a JSON object, e.g. `{"events":N,"seconds":S}`. */
export function finalJsonLine(output: string): Record<string, unknown> | undefined {
  const lines = output.split(/\r?\n|\r/).map((line) => line.trim());
  for (let index = lines.length - 1; index >= 0; index--) {
    const line = lines[index] as string;
    if (!line.startsWith('{')) continue;
    try {
      const parsed: unknown = JSON.parse(line);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      // a progress line or log record that only looks like JSON
    }
  }
  return undefined;
}

/** A finite number field of a parsed JSON line, if it has one. */
export function numberField(record: Record<string, unknown> | undefined, ...keys: string[]): number | undefined {
  for (const key of keys) {
    const value = record?.[key];
    if (typeof value === 'number' && Number.isFinite(value)) return value;
  }
  return undefined;
}
