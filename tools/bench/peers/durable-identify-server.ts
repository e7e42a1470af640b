import { IDENTITY_SEALING, identityIdsWith, toIdentityStreamName } from '@flagline/admin-domain';
import { readModelKeys } from '@flagline/contracts';
import { EnvironmentRegistry, FlagsmithSdkService, parseIdentifyBody, type IdentifyRequest, type ResolvedKey, type SdkAnswer } from '@flagline/evaluation-application';
import { newSealingKey, sealEvent } from '@flagline/event-sealing';
import { parseJsonKeepingFloats } from '@flagline/python-compat';
import { SqliteReadModelStore } from '@flagline/read-model-sqlite';
import Database from 'better-sqlite3';
import cluster from 'node:cluster';
import { randomBytes, randomUUID } from 'node:crypto';
import { copyFileSync, fdatasync, mkdirSync, openSync, writeSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { JsonValue } from '@flagline/event-sourcing';
import { TurnWrites } from '../../../libs/evaluation/http/src/lib/turn-writes';

/**
 * The floor of an identify that stores a new identity: the least a server on node:http can do for
 * `POST /api/v1/identities/` with a new identifier and still keep what the app promises, so that
 * the bench can show how far the app's write path is from what the machine allows. For each
 * request it:
 * - parses the body as the app does (`parseJsonKeepingFloats`, `parseIdentifyBody`);
 * - answers it: with a fixed set of flags, or, with `--read-models`, as the app evaluates it;
 * - for a new identity, before that answer goes: derives the identity's id with the app's keyed
 *   digest (`identityIdsWith`), seals the event's personal fields with a fresh key as the app does
 *   (`newSealingKey`, `sealEvent`: AES-256-GCM), and appends the event to a log file and the key to
 *   a file of key slots (32 bytes each, erasable in place), both written once per group of
 *   requests and synced (`fdatasync`) before any answer of the group goes: nothing acknowledged
 *   is lost. Answers are written at the end of the turn (`TurnWrites`, as the app writes);
 * - writes the identity's document (its traits) to SQLite behind the answers, every 50 ms (a
 *   second's at once held the event loop for a quarter of a second).
 * It does not keep an index of the log's streams, an admin catalog, event ids, an audit index or
 * a transparency tree: each of those is the app's on top of this.
 *
 * Options:
 * - `--processes N`: N processes on the one port (node:cluster deals the connections out), all
 *   appending to the one log and the one file of key slots. Each group is a single append
 *   (`O_APPEND`), so the log keeps one order whichever process wrote it; each process syncs its
 *   own groups before it answers them, and writes its documents to a file of its own.
 * - `--read-models FILE`: evaluates as the app does instead of answering fixed flags. FILE is a
 *   read-model file holding the environment (as `environmentReadModels` in scale/identities.ts
 *   cuts it from the app's); each process opens a copy of its own with the app's store, registry
 *   and SDK service (no writer), and answers every identify with `FlagsmithSdkService.identify`:
 *   the app's evaluation and answer, its look-up of the identity included (the store's filter
 *   of written identities, empty here: a new identity is answered without a read). A body with
 *   `"transient": true` is evaluated and answered, and nothing is stored: the floor of a transient
 *   identify, beside which the durable one's ratio is the least this machine costs a durable write.
 *   A key that names no environment of FILE is answered 401, with nothing stored.
 *
 *   node -r @swc-node/register durable-identify-server.ts PORT DATA_DIR [--processes N] [--read-models FILE]
 */
const [portArgument, directory] = process.argv.slice(2);
if (!portArgument || !directory) throw new Error('usage: durable-identify-server.ts PORT DATA_DIR [--processes N] [--read-models FILE]');

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
}

const processes = Number(option('--processes') ?? 1);
if (!Number.isInteger(processes) || processes < 1) throw new Error(`--processes takes a positive whole number, got "${option('--processes') ?? ''}"`);
const readModels = option('--read-models');
mkdirSync(directory, { recursive: true });

/** Answers an identify by evaluating as the app does (`--read-models`), or with fixed flags. */
interface Evaluator {
  resolve(key: string | undefined): ResolvedKey | null;
  answer(resolved: ResolvedKey | null, request: IdentifyRequest): SdkAnswer | Promise<SdkAnswer>;
}

const FIXED_FLAGS = Array.from({ length: 10 }, (_, index) => ({
  feature: { id: index + 1, name: `feature_${index + 1}`, type: 'STANDARD' },
  enabled: index % 2 === 0,
  feature_state_value: index % 3 === 0 ? `value ${index}` : null,
}));

const fixedFlags: Evaluator = {
  resolve: () => null,
  answer: (_resolved, request) => ({ status: 200, body: Buffer.from(JSON.stringify({ flags: FIXED_FLAGS, traits: request.traits, identifier: request.identifier })) }),
};

/** The app's store, registry and SDK service over a copy of `file` (this process's own). */
async function appEvaluator(file: string, directory: string, name: string): Promise<Evaluator> {
  const path = join(directory, `read-models${name}.sqlite`);
  copyFileSync(file, path);
  const store = SqliteReadModelStore.open({ path, integrityCheck: 'none', trackWrittenIdentities: true });
  // As the standalone app makes it (apps/standalone/src/standalone.ts), once its filter is filled.
  const registry = new EnvironmentRegistry(store, { identityCacheSize: 10_000, readNow: (key) => store.getNow(key) });
  while (!store.identityFilterComplete) await new Promise((resolveFill) => setImmediate(resolveFill));
  await registry.start();
  const sdk = new FlagsmithSdkService(registry);
  return {
    resolve: (key) => (key === undefined ? null : registry.resolve(key)),
    answer: (resolved, request) => (resolved === null ? { status: 401, body: null } : sdk.identify(resolved, request, randomUUID)),
  };
}

async function serve(port: number, directory: string, name: string): Promise<void> {
  const evaluator = readModels === undefined ? fixedFlags : await appEvaluator(readModels, directory, name);
  const log = openSync(join(directory, 'events.log'), 'a');
  const keySlots = openSync(join(directory, 'key-slots'), 'a');
  const documents = new Database(join(directory, `documents${name}.sqlite`));
  documents.pragma('journal_mode = WAL');
  documents.pragma('synchronous = OFF');
  documents.exec('CREATE TABLE IF NOT EXISTS documents (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID');
  const putDocument = documents.prepare<[string, string]>('INSERT OR REPLACE INTO documents (key, value) VALUES (?, ?)');
  const writeDocuments = documents.transaction((rows: readonly (readonly [string, string])[]) => {
    for (const [key, value] of rows) putDocument.run(key, value);
  });

  /** The app's keyed identity ids, under a secret of this server's own. */
  const identityIdFor = identityIdsWith(randomBytes(32));
  const ENVIRONMENT_ID = 1;

  interface Pending {
    readonly response: ServerResponse;
    readonly answer: SdkAnswer;
  }

  const send = (response: ServerResponse, answer: SdkAnswer): void => {
    response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers, ...(answer.body === null ? {} : { 'content-length': Buffer.byteLength(answer.body) }) });
    response.end(answer.body ?? undefined);
  };
  const answers = new TurnWrites<SdkAnswer>(send, (_error, response) => response.destroy());

  let group: Pending[] = [];
  let groupRecords: string[] = [];
  let groupKeys: Buffer[] = [];
  let behind: (readonly [string, string])[] = [];
  let syncing = false;

  function store(request: IdentifyRequest, traits: JsonValue[], answer: SdkAnswer, response: ServerResponse): void {
    const identityId = identityIdFor(ENVIRONMENT_ID, request.identifier);
    const stream = toIdentityStreamName(identityId);
    const data = { identityId, environmentId: ENVIRONMENT_ID, identifier: request.identifier, traits };
    // Sealed as the app seals it: its personal fields only in the box, under a key of its own.
    const key = newSealingKey();
    const metadata = { actor: { kind: 'environment-key' as const, id: 'floor' }, occurredAt: new Date().toISOString(), correlationId: randomUUID() };
    const sealed = sealEvent({ id: randomUUID(), type: 'IdentityCreated', data, metadata }, stream, key, IDENTITY_SEALING);
    groupRecords.push(JSON.stringify({ stream, ...sealed }));
    groupKeys.push(key.key);
    behind.push([readModelKeys.identity(ENVIRONMENT_ID, request.identifier), JSON.stringify(data)]);
    group.push({ response, answer });
    if (!syncing) {
      syncing = true;
      setImmediate(commit);
    }
  }

  function handle(text: string, environmentKey: string | undefined, response: ServerResponse): void {
    let body: unknown;
    try {
      // As the app reads it: a trait sent as 5.0 stays a float.
      body = parseJsonKeepingFloats(text);
    } catch {
      body = null;
    }
    const parsed = parseIdentifyBody(body);
    const traits = (body as { traits?: unknown } | null)?.traits;
    if ('errors' in parsed || parsed.request.anonymous || !Array.isArray(traits)) {
      response.writeHead(400).end();
      return;
    }
    const request = parsed.request;
    const resolved = evaluator.resolve(environmentKey);
    const evaluated = evaluator.answer(resolved, request);
    const then = (answer: SdkAnswer): void => {
      if (request.transient || answer.status !== 200) answers.add(response, answer, '', 0);
      else store(request, traits as JsonValue[], answer, response);
    };
    if (evaluated instanceof Promise) evaluated.then(then, () => response.destroy());
    else then(evaluated);
  }

  /** Writes the group's events and keys, syncs both files, then answers the group; one group at a time. */
  function commit(): void {
    const committing = group;
    // One write each: an append (`O_APPEND`) lands whole, after whatever another process appended.
    writeSync(log, `${groupRecords.join('\n')}\n`);
    writeSync(keySlots, Buffer.concat(groupKeys));
    for (const key of groupKeys) key.fill(0);
    group = [];
    groupRecords = [];
    groupKeys = [];
    let left = 2;
    const synced = (error: NodeJS.ErrnoException | null): void => {
      if (error) throw error;
      if (--left > 0) return;
      for (const { response, answer } of committing) answers.add(response, answer, '', 0);
      if (group.length > 0) setImmediate(commit);
      else syncing = false;
    };
    fdatasync(log, synced);
    fdatasync(keySlots, synced);
  }

  setInterval(() => {
    const rows = behind;
    behind = [];
    writeDocuments(rows);
  }, 50).unref();

  createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    const key = request.headers['x-environment-key'];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => handle(Buffer.concat(chunks).toString('utf8'), typeof key === 'string' ? key : undefined, response));
  }).listen(port, '127.0.0.1', () => process.send?.('ready'));

  process.on('SIGTERM', () => process.exit(0));
}

if (processes > 1 && cluster.isPrimary) {
  let ready = 0;
  for (let index = 0; index < processes; index++) {
    cluster.fork({ FLOOR_PROCESS: String(index) }).on('message', () => {
      if (++ready === processes) process.send?.('ready');
    });
  }
  process.on('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill('SIGTERM');
    process.exit(0);
  });
} else {
  void serve(Number(portArgument), directory, process.env['FLOOR_PROCESS'] ?? '');
}
