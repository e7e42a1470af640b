import { SingleBar } from 'cli-progress';
import { createWriteStream, type WriteStream } from 'node:fs';
import { stat, truncate } from 'node:fs/promises';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { messageOf, runCommand } from './command';
import { positionOf, resumePoint, type ExportFileFormat } from './export-file';

const USAGE = `Usage: npm run export -- --url <base url> --key <admin API key> --out <file> [--format ndjson|csv]
         [--after <position>] [--from <ISO time>] [--to <ISO time>] [--types A,B] [--entity <kind>:<id>]
         [--actor <actor id>] [--limit <n>] [--replayable] [--resume] [--quiet]

Streams GET /admin/v1/events/export (the events the key may read, as stored) into <file>, with a
progress bar and an ETA on a terminal. The key may also come from FLAGLINE_ADMIN_KEY.
--resume continues an interrupted export: the file is cut after its last complete record and the
export asks for the events after that record's position (give the same filters again). Without
--resume an existing non-empty file is refused. On an error the position the file stops at is
printed, and the exit code is 1.`;

/** Query parameters the CLI passes through to the export route as they are. */
const PASSED = ['format', 'after', 'from', 'to', 'types', 'entity', 'actor', 'limit'] as const;

export interface ExportOptions {
  readonly url: string;
  readonly key: string;
  readonly out: string;
  readonly format: ExportFileFormat;
  readonly query: Readonly<Partial<Record<(typeof PASSED)[number], string>>>;
  readonly replayable: boolean;
  readonly resume: boolean;
}

export interface ExportProgress {
  /** The position the export starts after and the head it covers up to (from the response headers). */
  start(after: number, head: number): void;
  /** The log position of the last complete record written. */
  update(position: number): void;
  stop(): void;
}

export interface ExportOutcome {
  /** Records written by this run (CSV: not counting a header). */
  readonly records: number;
  /** Log position of the file's last complete record (null when it holds none). */
  readonly position: number | null;
  readonly head: number;
}

/** An export that stopped before its end: the file holds complete records up to `position`. */
export class ExportInterruptedError extends Error {
  override readonly name = 'ExportInterruptedError';
  constructor(
    message: string,
    readonly position: number | null,
  ) {
    super(message);
  }
}

/** Writes and waits for the stream to take more when it asks to. */
async function write(stream: WriteStream, chunk: Buffer | string): Promise<void> {
  if (!stream.write(chunk)) await once(stream, 'drain');
}

/**
 * Streams an export into a file. The response is written as it arrives (never held whole); the
 * progress follows the log position of the last complete record against the head the server
 * names in `X-Flagline-Position`.
 */
export async function exportToFile(options: ExportOptions, progress?: ExportProgress): Promise<ExportOutcome> {
  const { format } = options;
  let size = 0;
  try {
    size = (await stat(options.out)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (size > 0 && !options.resume) throw new Error(`${options.out} exists and is not empty: pass --resume to continue it, or remove it`);
  const resumed = size > 0 ? await resumePoint(options.out, format) : null;
  if (resumed) await truncate(options.out, resumed.bytes);

  const query = new URLSearchParams();
  for (const name of PASSED) {
    const value = options.query[name];
    if (value !== undefined) query.set(name, value);
  }
  if (options.replayable) query.set('replayable', 'true');
  if (resumed?.position != null) query.set('after', String(resumed.position));
  const url = `${options.url.replace(/\/+$/, '')}/admin/v1/events/export?${query.toString()}`;
  const response = await fetch(url, { headers: { authorization: `Api-Key ${options.key}` } });
  if (response.status !== 200 || !response.body) {
    const text = await response.text();
    throw new ExportInterruptedError(`the export was refused (HTTP ${response.status}): ${text}`, resumed?.position ?? null);
  }
  const head = Number(response.headers.get('x-flagline-position'));
  const after = Number(response.headers.get('x-flagline-export-after'));
  progress?.start(after, head);

  const stream = createWriteStream(options.out, { flags: 'a' });
  let position = resumed?.position ?? null;
  let records = 0;
  // CSV: a resumed file already has its header row, which the server sends again.
  let skipHeader = format === 'csv' && resumed !== null && resumed.bytes > 0;
  // The text after the last newline of what came so far: the record in progress (for progress only).
  let tail = '';
  let failure: unknown = null;
  try {
    for await (const piece of response.body as unknown as AsyncIterable<Uint8Array>) {
      let chunk = Buffer.from(piece);
      if (skipHeader) {
        const newline = chunk.indexOf(0x0a);
        tail += chunk.subarray(0, newline < 0 ? chunk.length : newline).toString('utf8');
        if (newline < 0) continue;
        chunk = chunk.subarray(newline + 1);
        skipHeader = false;
        tail = '';
      }
      await write(stream, chunk);
      const text = tail + chunk.toString('utf8');
      const lines = text.split('\n');
      tail = lines.pop() ?? '';
      for (const line of lines) {
        const found = positionOf(format, line);
        if (found !== null) {
          records++;
          position = found;
        }
      }
      if (position !== null) progress?.update(position);
    }
  } catch (error) {
    failure = error;
  } finally {
    stream.end();
    await once(stream, 'close');
    progress?.stop();
  }
  if (failure !== null || tail.length > 0) {
    // Count from the file: what it holds complete is what a --resume continues after.
    const point = await resumePoint(options.out, format);
    const reason = failure !== null ? messageOf(failure) : 'the response ended inside a record';
    throw new ExportInterruptedError(`the export stopped (${reason})`, point.position);
  }
  return { records, position, head };
}

/** A progress bar with the positions left and an ETA (cli-progress), drawn only on a terminal. */
function progressBar(): ExportProgress {
  const bar = new SingleBar({ format: 'export [{bar}] {percentage}% | position {position} of {head} | ETA {eta_formatted} | {duration_formatted}', hideCursor: true, noTTYOutput: false });
  let base = 0;
  return {
    start(after, head) {
      base = after;
      bar.start(Math.max(head - after, 1), 0, { position: after, head });
    },
    update(position) {
      bar.update(position - base, { position });
    },
    stop() {
      bar.stop();
    },
  };
}

function parseCli(argv: readonly string[]): ExportOptions | string {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        url: { type: 'string' },
        key: { type: 'string' },
        out: { type: 'string' },
        format: { type: 'string' },
        after: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        types: { type: 'string' },
        entity: { type: 'string' },
        actor: { type: 'string' },
        limit: { type: 'string' },
        replayable: { type: 'boolean', default: false },
        resume: { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    });
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  const { values } = parsed;
  if (values.help) return '';
  const key = values.key ?? process.env['FLAGLINE_ADMIN_KEY'];
  const missing = [!values.url && '--url', !key && '--key (or FLAGLINE_ADMIN_KEY)', !values.out && '--out'].filter(Boolean);
  if (missing.length > 0) return `missing ${missing.join(', ')}`;
  const format = values.format ?? 'ndjson';
  if (format !== 'ndjson' && format !== 'csv') return '--format must be ndjson or csv';
  const query: Partial<Record<(typeof PASSED)[number], string>> = {};
  for (const name of PASSED) {
    const value = values[name];
    if (value !== undefined) query[name] = value;
  }
  return { url: values.url as string, key: key as string, out: values.out as string, format, query, replayable: values.replayable, resume: values.resume };
}

async function main(): Promise<void> {
  const quiet = process.argv.includes('--quiet') || !process.stderr.isTTY;
  const started = Date.now();
  await runCommand(
    USAGE,
    parseCli(process.argv.slice(2)),
    async (options) => {
      const outcome = await exportToFile(options, quiet ? undefined : progressBar());
      return `${outcome.records} events written to ${options.out} in ${((Date.now() - started) / 1000).toFixed(1)} s, up to position ${outcome.position ?? 'none'} (head ${outcome.head})`;
    },
    (error, options) =>
      error instanceof ExportInterruptedError
        ? `${error.message}\n${options.out} holds complete records up to position ${error.position ?? 'none (no event yet)'}; run again with --resume to continue after it.`
        : messageOf(error),
  );
}

if (require.main === module) void main();
