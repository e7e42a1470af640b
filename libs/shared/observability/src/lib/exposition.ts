/** One sample line of the Prometheus text format. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Exposition {
  readonly samples: readonly Sample[];
  /** Samples of `name` whose labels include every one of `labels`. */
  matching(name: string, labels?: Readonly<Record<string, string>>): Sample[];
  /** The value of the one sample of `name` with `labels` (undefined when none; an error when several). */
  value(name: string, labels?: Readonly<Record<string, string>>): number | undefined;
  /** The sum of the matching samples' values (0 when none). */
  sum(name: string, labels?: Readonly<Record<string, string>>): number;
  /** Metric families declared by `# TYPE` lines, with their type. */
  readonly types: ReadonlyMap<string, string>;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)/y;

function unescapeLabel(value: string): string {
  return value.replace(/\\(.)/g, (_, char: string) => (char === 'n' ? '\n' : char));
}

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const at = LABEL.lastIndex;
    const match = LABEL.exec(text);
    if (match === null || match.index !== at) throw new Error(`Unreadable labels in metrics line: ${line}`);
    labels[match[1] as string] = unescapeLabel(match[2] as string);
  }
  return labels;
}

function parseValue(text: string, line: string): number {
  // As Prometheus reads them (Go's ParseFloat): infinities and NaN in any case (prom-client writes "Nan").
  const special = text.toLowerCase();
  if (special === '+inf' || special === 'inf') return Number.POSITIVE_INFINITY;
  if (special === '-inf') return Number.NEGATIVE_INFINITY;
  if (special === 'nan') return Number.NaN;
  const value = Number(text);
  if (Number.isNaN(value)) throw new Error(`Unreadable value in metrics line: ${line}`);
  return value;
}

/** Reads the Prometheus text exposition format (what `/metrics` answers), failing on any line it cannot read. */
export function parseExposition(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const type = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (type) types.set(type[1] as string, type[2] as string);
      continue;
    }
    const match = SAMPLE.exec(line);
    if (match === null) throw new Error(`Unreadable metrics line: ${line}`);
    samples.push({ name: match[1] as string, labels: match[2] ? parseLabels(match[2], line) : {}, value: parseValue(match[3] as string, line) });
  }
  const matching = (name: string, labels: Readonly<Record<string, string>> = {}): Sample[] =>
    samples.filter((sample) => sample.name === name && Object.entries(labels).every(([label, value]) => sample.labels[label] === value));
  return {
    samples,
    types,
    matching,
    value(name, labels) {
      const found = matching(name, labels);
      if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels ?? {})}`);
      return found[0]?.value;
    },
    sum: (name, labels) => matching(name, labels).reduce((total, sample) => total + sample.value, 0),
  };
}
