import { IDENTITY_SEALING, identityIdsWith, toIdentityStreamName } from '@flagline/admin-domain';
import { readModelKeys } from '@flagline/contracts';
import { newSealingKey, sealEvent } from '@flagline/event-sealing';
import Database from 'better-sqlite3';
import { randomBytes, randomUUID } from 'node:crypto';
import { fdatasync, mkdirSync, openSync, writeSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { JsonValue } from '@flagline/event-sourcing';
import { TurnWrites } from '../../../libs/evaluation/http/src/lib/turn-writes';

/**
 * The floor of an identify that stores a new identity: the least a server on node:http can do for
 * `POST /api/v1/identities/` with a new identifier and still keep what the app promises, so that
 * the bench can show how far the app's write path is from what the machine allows. argv: port,
 * data directory. For each request it:
 * - reads and parses the body (`identifier`, `traits`);
 * - derives the identity's id with the app's keyed digest (`identityIdsWith`);
 * - seals the event's personal fields with a fresh key as the app does (`newSealingKey`,
 *   `sealEvent`: AES-256-GCM);
 * - appends the event to a log file and the key to a file of key slots (32 bytes each, erasable in
 *   place), both written once per group of requests and synced (`fdatasync`) before any answer of
 *   the group goes: nothing acknowledged is lost;
 * - answers with a fixed set of flags, at the end of the turn (`TurnWrites`, as the app writes);
 * - writes the identity's document (its traits) to SQLite behind the answers, every 50 ms (a
 *   second's at once held the event loop for a quarter of a second).
 * It does not evaluate, keep an index of the log's streams, an admin catalog, event ids, an
 * audit index or a transparency tree, and does not look up whether the identity exists: each of
 * those is the app's on top of this.
 */
const [portArgument, directory] = process.argv.slice(2);
if (!portArgument || !directory) throw new Error('usage: durable-identify-server.ts PORT DATA_DIR');
mkdirSync(directory, { recursive: true });

const log = openSync(join(directory, 'events.log'), 'a');
const keySlots = openSync(join(directory, 'key-slots'), 'a');
const documents = new Database(join(directory, 'documents.sqlite'));
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

const flags = Array.from({ length: 10 }, (_, index) => ({
  feature: { id: index + 1, name: `feature_${index + 1}`, type: 'STANDARD' },
  enabled: index % 2 === 0,
  feature_state_value: index % 3 === 0 ? `value ${index}` : null,
}));

interface Pending {
  readonly response: ServerResponse;
  readonly answer: Buffer;
}

const answers = new TurnWrites<Buffer>(
  (response, answer) => {
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': answer.length });
    response.end(answer);
  },
  (_error, response) => response.destroy(),
);

let group: Pending[] = [];
let groupRecords: string[] = [];
let groupKeys: Buffer[] = [];
let behind: (readonly [string, string])[] = [];
let syncing = false;

function store(body: string, response: ServerResponse): void {
  let request: { identifier?: unknown; traits?: unknown } | null;
  try {
    request = JSON.parse(body) as { identifier?: unknown; traits?: unknown } | null;
  } catch {
    request = null;
  }
  if (typeof request !== 'object' || request === null || typeof request.identifier !== 'string' || !Array.isArray(request.traits)) {
    response.writeHead(400).end();
    return;
  }
  const identityId = identityIdFor(ENVIRONMENT_ID, request.identifier);
  const stream = toIdentityStreamName(identityId);
  const data = { identityId, environmentId: ENVIRONMENT_ID, identifier: request.identifier, traits: request.traits as JsonValue[] };
  // Sealed as the app seals it: its personal fields only in the box, under a key of its own.
  const key = newSealingKey();
  const metadata = { actor: { kind: 'environment-key' as const, id: 'floor' }, occurredAt: new Date().toISOString(), correlationId: randomUUID() };
  const sealed = sealEvent({ id: randomUUID(), type: 'IdentityCreated', data, metadata }, stream, key, IDENTITY_SEALING);
  groupRecords.push(JSON.stringify({ stream, ...sealed }));
  groupKeys.push(key.key);
  behind.push([readModelKeys.identity(ENVIRONMENT_ID, request.identifier), JSON.stringify(data)]);
  group.push({ response, answer: Buffer.from(JSON.stringify({ flags, traits: request.traits, identifier: request.identifier })) });
  if (!syncing) {
    syncing = true;
    setImmediate(commit);
  }
}

/** Writes the group's events and keys, syncs both files, then answers the group; one group at a time. */
function commit(): void {
  const committing = group;
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
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => store(Buffer.concat(chunks).toString('utf8'), response));
}).listen(Number(portArgument), '127.0.0.1', () => process.send?.('ready'));

process.on('SIGTERM', () => process.exit(0));
