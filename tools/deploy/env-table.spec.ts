// The README's table of environment variables stays true: every variable a service reads (found
// in the sources) has a row, and every row names a variable something still reads.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');

/** Where services read their configuration: the apps that run as services, the libraries, and the runner. */
const SOURCE_ROOTS = ['apps/command-service/src', 'apps/relay/src', 'apps/projector/src', 'apps/evaluation-service/src', 'apps/standalone/src', 'libs', 'tools/distributed'];

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== 'testing') yield* sourceFiles(path);
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') && entry.name !== 'testing.ts' && !entry.name.endsWith('.testing.ts')) {
      yield path;
    }
  }
}

// `env['NAME']` / `process.env['NAME']`, and the EnvReader's typed reads (`read.integer('NAME', …)`).
const READS = [/\benv\[['"]([A-Z][A-Z0-9_]*)['"]\]/g, /\benv\.([A-Z][A-Z0-9_]*)\b/g, /\.(?:string|optional|integer|url|hostPorts|secret|boolean)\('([A-Z][A-Z0-9_]*)'/g];

/** Variables read by each file, by variable. */
function variablesRead(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const root of SOURCE_ROOTS) {
    for (const file of sourceFiles(join(ROOT, root))) {
      const text = readFileSync(file, 'utf8');
      for (const pattern of READS) {
        for (const match of text.matchAll(pattern)) {
          const name = match[1] ?? '';
          found.set(name, [...(found.get(name) ?? []), file.slice(ROOT.length + 1)]);
        }
      }
    }
  }
  return found;
}

/** The variables of the README's table under "### Environment variables". */
function tableVariables(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('### Environment variables');
  if (start < 0) throw new Error('README has no "### Environment variables" section');
  const rest = readme.slice(start);
  const end = rest.search(/\n#{2,3} /);
  const section = end > 0 ? rest.slice(0, end) : rest;
  return [...section.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \|/gm)].map((match) => match[1] ?? '');
}

describe('the README table of environment variables', () => {
  const read = variablesRead();
  const table = tableVariables();

  it('finds the variables the services are known to read', () => {
    // A guard on the search itself: these are read as env['…'] and through the EnvReader.
    for (const name of ['LOG_LEVEL', 'DATA_DIR', 'KAFKA_SESSION_TIMEOUT_MS', 'KAFKA_REPLICATION_FACTOR']) expect(read.has(name)).toBe(true);
  });

  it('has a row for every variable a service reads', () => {
    const missing = [...read.keys()].filter((name) => !table.includes(name)).map((name) => `${name} (read in ${read.get(name)?.join(', ') ?? '?'})`);
    expect(missing).toEqual([]);
  });

  it('has no row for a variable nothing reads', () => {
    expect(table.filter((name) => !read.has(name))).toEqual([]);
  });

  it('has one row per variable', () => {
    expect(table.filter((name, i) => table.indexOf(name) !== i)).toEqual([]);
  });
});
