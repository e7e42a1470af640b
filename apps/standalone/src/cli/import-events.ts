import { identityIdFor } from '@flagline/admin-domain';
import { ConcurrencyError, type EventMetadata, type NewEvent } from '@flagline/event-sourcing';
import { DirectoryLockedError, EmbeddedEventStore } from '@flagline/event-store-embedded';
import { createReadStream, existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { ExportedEvent } from '@flagline/admin-application';
import { IDENTITY_IDS_FILE } from '../sealing';
import { messageOf, runCommand } from './command';

const USAGE = `Usage: npm run import -- --data-dir <dir> <export.ndjson>

Appends the events of an NDJSON export (npm run export, or GET /admin/v1/events/export) to the
event log of an empty data directory, as they were stored: the same ids, streams, revisions,
data, metadata and recording times, in the export's order. Start the app on the directory
afterwards: it derives its read models and catalog from the log. A directory whose log already
holds events is refused, as is a line the exporting key could not read in full ("redacted").

Identity streams are named with the source's identity ids: copy the source directory's
identity-id-key (and keys.sqlite, which opens identities' sealed data) into the directory. An
import of identities into a directory without identity-id-key fails at its end unless the export
shows the source's ids unkeyed (then it records that, as the source did).`;

/** Appends handed to the store before waiting for them to be durable. */
const IN_FLIGHT = 512;

/** One exported event, checked, with its line in the file. */
type ImportedEvent = Omit<ExportedEvent, 'position' | 'redacted'> & { readonly line: number };

/**
 * Identity streams were imported into a directory that does not say how its identity ids are
 * derived, and the export does not show them unkeyed: started so, the app would record unkeyed ids
 * and find none of the (keyed) identity streams.
 */
export class MissingIdentityIdsError extends Error {
  override readonly name = 'MissingIdentityIdsError';
}

/** A line that is not an event of an export (named by its line number and what is wrong). */
export class ImportLineError extends Error {
  override readonly name = 'ImportLineError';
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function eventOf(text: string, line: number): ImportedEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ImportLineError(`line ${line}: not JSON`);
  }
  if (!isObject(parsed)) throw new ImportLineError(`line ${line}: not a JSON object`);
  if ('redacted' in parsed) throw new ImportLineError(`line ${line}: the exporting key could not read this event in full (redacted ${JSON.stringify(parsed['redacted'])}); export with a key that reads it`);
  const { id, type, streamName, streamRevision, data, metadata, recordedAt } = parsed;
  const bad = [
    typeof id !== 'string' || id.length === 0 ? 'id' : null,
    typeof type !== 'string' || type.length === 0 ? 'type' : null,
    typeof streamName !== 'string' || streamName.length === 0 ? 'streamName' : null,
    typeof streamRevision !== 'number' || !Number.isSafeInteger(streamRevision) || streamRevision < 0 ? 'streamRevision' : null,
    data === undefined ? 'data' : null,
    !isObject(metadata) || !isObject(metadata['actor']) ? 'metadata' : null,
    typeof recordedAt !== 'string' || Number.isNaN(Date.parse(recordedAt)) ? 'recordedAt' : null,
  ].filter((field): field is string => field !== null);
  if (bad.length > 0) throw new ImportLineError(`line ${line}: missing or bad ${bad.join(', ')}`);
  return { line, id, type, streamName, streamRevision, data, metadata: metadata as EventMetadata, recordedAt } as ImportedEvent;
}

/**
 * What an identity event shows of the source's identity ids: `unkeyed` when its identifier is in
 * clear (events from before sealing) and its id is the unkeyed digest of it, `keyed` when it is
 * not, nothing when the identifier is sealed (no one can tell without the source's secret).
 */
function identityIdsShown(event: ImportedEvent): 'unkeyed' | 'keyed' | undefined {
  if (!event.streamName.startsWith('identity-') || !isObject(event.data)) return undefined;
  const { identityId, environmentId, identifier } = event.data;
  if (typeof identityId !== 'string' || typeof environmentId !== 'number' || typeof identifier !== 'string') return undefined;
  return identityIdFor(environmentId, identifier) === identityId ? 'unkeyed' : 'keyed';
}

/** Events of one original append: consecutive, one stream, consecutive revisions, one recording time. */
function sameAppend(batch: readonly ImportedEvent[], event: ImportedEvent): boolean {
  const last = batch[batch.length - 1];
  return last !== undefined && last.streamName === event.streamName && last.recordedAt === event.recordedAt && last.streamRevision + 1 === event.streamRevision;
}

export interface ImportOutcome {
  readonly events: number;
  readonly streams: number;
  readonly head: number;
}

/**
 * Replays an export into the empty event log of a data directory. The store stamps `recordedAt`
 * from its clock at each append, so each original append (consecutive events of one stream with
 * one recording time) is appended as one, with the clock set to that time; each expects its
 * stream at the revision before its first event, so revisions are the exported ones or the import
 * stops, naming the line.
 */
export async function importEvents(dataDir: string, file: string): Promise<ImportOutcome> {
  let recordedAt = new Date(0);
  const store = await EmbeddedEventStore.open({ directory: join(dataDir, 'events'), clock: () => recordedAt });
  let inFlight: Promise<void>[] = [];
  try {
    const head = await store.headPosition();
    if (head > 0) throw new Error(`${join(dataDir, 'events')} already holds events (up to position ${head}): import only into an empty data directory`);
    let events = 0;
    const streams = new Set<string>();
    let identityStreams = 0;
    let identityIds: 'unkeyed' | 'keyed' | undefined;
    let batch: ImportedEvent[] = [];
    // Appends in flight share the store's group commits; each is decided (revision checked, time
    // and position taken) when it is called, so they stay in the export's order.
    const settle = async (): Promise<void> => {
      const pending = inFlight;
      inFlight = [];
      await Promise.all(pending);
    };
    const append = (): void => {
      const [first] = batch;
      if (!first) return;
      recordedAt = new Date(first.recordedAt);
      // A recording time Date cannot give back as stored (not the ISO form the stores write) would change the event.
      if (recordedAt.toISOString() !== first.recordedAt) throw new ImportLineError(`line ${first.line}: recordedAt ${first.recordedAt} is not in the form the event store writes (${recordedAt.toISOString()})`);
      const news: NewEvent[] = batch.map(({ id, type, data, metadata }) => ({ id, type, data, metadata }));
      const appended = store.appendToStream(first.streamName, news, { expectedRevision: first.streamRevision === 0 ? 'no_stream' : first.streamRevision - 1 });
      inFlight.push(
        appended.then(
          () => undefined,
          (error: unknown) => {
            if (!(error instanceof ConcurrencyError)) throw error;
            throw new ImportLineError(
              `line ${first.line}: event ${first.id} is revision ${first.streamRevision} of ${first.streamName}, which is at ${error.actual === null ? 'no stream' : `revision ${error.actual}`}: the export misses events of this stream (was it filtered?)`,
            );
          },
        ),
      );
      events += batch.length;
      if (first.streamRevision === 0 && first.streamName.startsWith('identity-')) identityStreams++;
      streams.add(first.streamName);
      batch = [];
    };
    const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Number.POSITIVE_INFINITY });
    let number = 0;
    for await (const text of lines) {
      number++;
      if (text.trim().length === 0) continue;
      const event = eventOf(text, number);
      identityIds = identityIds === 'keyed' ? identityIds : (identityIdsShown(event) ?? identityIds);
      if (!sameAppend(batch, event)) append();
      batch.push(event);
      if (inFlight.length >= IN_FLIGHT) await settle();
    }
    append();
    await settle();
    const idsFile = join(dataDir, IDENTITY_IDS_FILE);
    if (identityStreams > 0 && !existsSync(idsFile)) {
      // Recorded as the app would record it at its first start on a log that holds events.
      if (identityIds === 'unkeyed') await writeFile(idsFile, 'sha256\n', { mode: 0o600, flag: 'wx' });
      else
        throw new MissingIdentityIdsError(
          `${identityStreams} identity streams were appended, named with the source's identity ids${identityIds === 'keyed' ? ' (keyed: not the unkeyed digest of their identifiers)' : ''}, but ${idsFile} is missing: ` +
            `copy ${IDENTITY_IDS_FILE} from the source data directory (with keys.sqlite) before starting the app, or none of these identities will be found` +
            `${identityIds === undefined ? ` (if the source derived unkeyed ids, write "sha256" in it)` : ''}`,
        );
    }
    return { events, streams: streams.size, head: await store.headPosition() };
  } finally {
    // A failure leaves appends in flight: they settle (durable or refused) before the store closes.
    await Promise.allSettled(inFlight);
    await store.close();
  }
}

function parseCli(argv: readonly string[]): { dataDir: string; file: string } | string {
  let dataDir: string | undefined;
  const files: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index] as string;
    if (argument === '--help' || argument === '-h') return '';
    if (argument === '--data-dir') {
      dataDir = argv[++index];
      if (!dataDir) return '--data-dir needs a directory';
    } else if (argument.startsWith('--data-dir=')) dataDir = argument.slice('--data-dir='.length);
    else if (argument.startsWith('--')) return `unknown option ${argument}`;
    else files.push(argument);
  }
  if (!dataDir) return 'missing --data-dir';
  if (files.length !== 1) return 'name one NDJSON export file';
  return { dataDir: resolve(dataDir), file: resolve(files[0] as string) };
}

async function main(): Promise<void> {
  const started = Date.now();
  await runCommand(
    USAGE,
    parseCli(process.argv.slice(2)),
    async ({ dataDir, file }) => {
      const outcome = await importEvents(dataDir, file);
      return `${outcome.events} events of ${outcome.streams} streams appended to ${dataDir} in ${((Date.now() - started) / 1000).toFixed(1)} s (head ${outcome.head})`;
    },
    (error, { dataDir }) => {
      if (error instanceof DirectoryLockedError) return `${dataDir} is in use by a running app: stop it first`;
      if (error instanceof MissingIdentityIdsError) return `${error.message}\nThe events were appended.`;
      if (error instanceof ImportLineError) return `${error.message}\nThe events before that line were appended: remove ${join(dataDir, 'events')} before importing again.`;
      return messageOf(error);
    },
  );
}

if (require.main === module) void main();
