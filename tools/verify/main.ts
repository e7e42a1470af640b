/**
 * Offline checks of the tamper-evident log (README, "Tamper evidence"):
 *
 *   npm run verify -- export <export.ndjson> --tree-head <head.json> --public-key <key.pem|key.json>
 *                     [--server <url> --api-key <key>] [--inclusion-proofs <proofs.ndjson> [--allow-lines-after-head]]
 *   npm run verify -- consistency --earlier <head.json> --later <head.json> --proof <proof.json> --public-key <key>
 *   npm run verify -- fetch-proofs <export.ndjson> --tree-head <head.json> --server <url> --api-key <key> --out <proofs.ndjson>
 *     (the inclusion proof of every line, for a partial export to be checked offline with --inclusion-proofs;
 *     a line without a proof fails it unless --allow-lines-after-head takes the lines after the last proof as
 *     events appended after the head)
 *
 * `--json` prints the verdict as one JSON object (with `firstBad`: leafIndex, position, id).
 * Exit codes: 0 verified, 1 not verified, 2 usage (bad arguments or files).
 */
import { ed25519PublicKey, exportLeaf, parseSignedTreeHead, verifyExportWithProofs, verifyFullExport, verifyHeadsConsistent, type ConsistencyProofSource, type ExportLeaf, type ExportLine, type ExportVerdict, type LineProof, type SignedTreeHead } from '@flagline/transparency';
import type { KeyObject } from 'node:crypto';
import { createReadStream, readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

class UsageError extends Error {}

const USAGE = `Usage:
  npm run verify -- export <export.ndjson> --tree-head <head.json> --public-key <key.pem|key.json> [--server <url> --api-key <key>] [--inclusion-proofs <proofs.ndjson> [--allow-lines-after-head]]
  npm run verify -- consistency --earlier <head.json> --later <head.json> --proof <proof.json> --public-key <key.pem|key.json>
  npm run verify -- fetch-proofs <export.ndjson> --tree-head <head.json> --server <url> --api-key <key> --out <proofs.ndjson>`;

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`Cannot read the ${what} ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function readJson(path: string, what: string): unknown {
  try {
    return JSON.parse(readText(path, what)) as unknown;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`The ${what} ${path} is not JSON`);
  }
}

/** A public key file: PEM, or the JSON the public-key route answers. */
function publicKeyFrom(path: string): KeyObject {
  const text = readText(path, 'public key');
  const pem = text.trimStart().startsWith('{') ? (JSON.parse(text) as { publicKey?: unknown }).publicKey : text;
  const key = typeof pem === 'string' ? ed25519PublicKey(pem) : null;
  if (!key) throw new UsageError(`${path} holds no Ed25519 public key`);
  return key;
}

function treeHeadFrom(path: string): SignedTreeHead {
  const head = parseSignedTreeHead(readJson(path, 'tree head'));
  if (typeof head === 'string') throw new UsageError(`${path}: ${head}`);
  return head;
}

function proofFrom(path: string): string[] {
  const value = readJson(path, 'proof');
  const proof = Array.isArray(value) ? value : typeof value === 'object' && value !== null ? (value as { proof?: unknown }).proof : undefined;
  if (!Array.isArray(proof) || !proof.every((hash) => typeof hash === 'string' && /^[0-9a-f]{64}$/.test(hash))) throw new UsageError(`${path} holds no proof (a list of hex hashes, or {"proof": [...]})`);
  return proof as string[];
}

async function* ndjson(path: string, what: string): AsyncGenerator<Record<string, unknown>> {
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  let number = 0;
  try {
    for await (const line of lines) {
      number += 1;
      if (line.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        throw new UsageError(`${path} line ${number}: not JSON`);
      }
      if (typeof value !== 'object' || value === null) throw new UsageError(`${path} line ${number}: not an object`);
      yield value as Record<string, unknown>;
    }
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`Cannot read the ${what} ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The export's lines as leaves, read as a stream: only positions, ids and leaf hashes are kept. */
async function exportLeaves(path: string): Promise<ExportLeaf[]> {
  const leaves: ExportLeaf[] = [];
  for await (const value of ndjson(path, 'export')) {
    if (typeof value['position'] !== 'number' || typeof value['id'] !== 'string') throw new UsageError(`${path}: line ${leaves.length + 1} is not an export line (position, id, type, streamName, streamRevision, data, metadata, recordedAt)`);
    leaves.push(exportLeaf(value as unknown as ExportLine));
  }
  return leaves;
}

async function inclusionProofs(path: string): Promise<Map<number, LineProof>> {
  const proofs = new Map<number, LineProof>();
  for await (const value of ndjson(path, 'inclusion proofs')) {
    const proof = value as unknown as LineProof;
    if (typeof proof.position !== 'number' || typeof proof.leafIndex !== 'number' || !Array.isArray(proof.auditPath)) throw new UsageError(`${path}: not an inclusion proof answer`);
    proofs.set(proof.position, proof);
  }
  return proofs;
}

/** Consistency proofs fetched from the instance (the routes any authenticated caller may use). */
function serverProofs(server: string, apiKey: string): ConsistencyProofSource {
  return async (first, second) => {
    const response = await fetch(`${server.replace(/\/$/, '')}/admin/v1/transparency/proofs/consistency?first=${first}&second=${second}`, { headers: { authorization: `Api-Key ${apiKey}` } });
    if (!response.ok) throw new Error(`The server answered ${response.status} for the consistency proof from ${first} to ${second}: ${await response.text()}`);
    return ((await response.json()) as { proof: string[] }).proof;
  };
}

/**
 * Whether the instance's own tree of the head's size has another root than the signed head: then
 * its tree was rewritten too (rebuilt over an edited log), and its proofs cannot locate anything.
 * Null when it has the same root, or signs no head (its start-up check found the log edited).
 */
async function rewrittenTree(server: string, apiKey: string, head: SignedTreeHead): Promise<string | null> {
  const response = await fetch(`${server.replace(/\/$/, '')}/admin/v1/transparency/tree-head?treeSize=${head.treeSize}`, { headers: { authorization: `Api-Key ${apiKey}` } });
  if (!response.ok) return null;
  const { rootHash } = (await response.json()) as { rootHash?: unknown };
  return rootHash === head.rootHash
    ? null
    : `the instance's own tree of ${head.treeSize} events has another root (${String(rootHash)}) than the signed head: its tree was rewritten as well, so its proofs cannot locate the first edited event`;
}

/** Whether a 400 answer names treeSize among its bad fields (a body that is not JSON names none). */
function badTreeSize(body: string): boolean {
  try {
    return ((JSON.parse(body) as { errors?: { field?: string }[] }).errors ?? []).some((error) => error.field === 'treeSize');
  } catch {
    return false;
  }
}

/** The inclusion proof of every export line in the tree of the head's size (the lines after it have none). */
async function fetchInclusionProofs(lines: readonly ExportLeaf[], head: SignedTreeHead, server: string, apiKey: string): Promise<LineProof[]> {
  const proofs: LineProof[] = [];
  for (const line of lines) {
    const response = await fetch(`${server.replace(/\/$/, '')}/admin/v1/transparency/proofs/inclusion?position=${line.position}&treeSize=${head.treeSize}`, { headers: { authorization: `Api-Key ${apiKey}` } });
    // The body is read once: a 400 on another field than treeSize keeps its message for the error.
    const body = await response.text();
    // A line after the head's tree (events appended since) is answered 400 on treeSize: it and every later line are not covered.
    if (response.status === 400 && badTreeSize(body)) break;
    if (!response.ok) throw new Error(`The server answered ${response.status} for the inclusion proof of position ${line.position}: ${body}`);
    proofs.push(JSON.parse(body) as LineProof);
  }
  return proofs;
}

export async function runVerify(argv: readonly string[]): Promise<{ code: 0 | 1 | 2; message: string; verdict?: ExportVerdict; json?: boolean }> {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        'tree-head': { type: 'string' },
        'public-key': { type: 'string' },
        server: { type: 'string' },
        'api-key': { type: 'string' },
        'inclusion-proofs': { type: 'string' },
        'allow-lines-after-head': { type: 'boolean' },
        earlier: { type: 'string' },
        later: { type: 'string' },
        proof: { type: 'string' },
        json: { type: 'boolean' },
        out: { type: 'string' },
      },
    });
    const [command, file, ...extra] = positionals;
    const need = (name: keyof typeof values): string => {
      const value = values[name];
      if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
      return value;
    };
    let verdict: ExportVerdict;
    if (command === 'export' && file && extra.length === 0) {
      const head = treeHeadFrom(need('tree-head'));
      const key = publicKeyFrom(need('public-key'));
      const lines = await exportLeaves(file);
      if (values['inclusion-proofs']) {
        verdict = verifyExportWithProofs(lines, head, key, await inclusionProofs(values['inclusion-proofs']), { allowLinesAfterHead: values['allow-lines-after-head'] === true });
      }
      else {
        if ((values.server === undefined) !== (values['api-key'] === undefined)) throw new UsageError('--server and --api-key go together');
        const rewritten = values.server && values['api-key'] ? await rewrittenTree(values.server, values['api-key'], head) : null;
        verdict = await verifyFullExport(lines, head, key, values.server && values['api-key'] && rewritten === null ? serverProofs(values.server, values['api-key']) : undefined);
        if (!verdict.verified && rewritten !== null) verdict = { verified: false, message: `${verdict.message.replace(/; give a source .*$/, '')}; ${rewritten}` };
      }
    } else if (command === 'fetch-proofs' && file && extra.length === 0) {
      const head = treeHeadFrom(need('tree-head'));
      const fetched = await fetchInclusionProofs(await exportLeaves(file), head, need('server'), need('api-key'));
      writeFileSync(need('out'), fetched.map((proof) => `${JSON.stringify(proof)}\n`).join(''));
      return { code: 0, message: `${fetched.length} inclusion proofs for the tree of ${head.treeSize} events written to ${need('out')}`, json: values.json === true };
    } else if (command === 'consistency' && positionals.length === 1) {
      verdict = verifyHeadsConsistent(treeHeadFrom(need('earlier')), treeHeadFrom(need('later')), publicKeyFrom(need('public-key')), proofFrom(need('proof')));
    } else {
      throw new UsageError(USAGE);
    }
    return { code: verdict.verified ? 0 : 1, message: verdict.message, verdict, json: values.json === true };
  } catch (error) {
    const json = argv.includes('--json');
    if (error instanceof UsageError || (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) return { code: 2, message: error.message, json };
    return { code: 1, message: `Not verified: ${error instanceof Error ? error.message : String(error)}`, json };
  }
}

if (require.main === module) {
  runVerify(process.argv.slice(2)).then(
    ({ code, message, verdict, json }) => {
      if (json) console.log(JSON.stringify({ code, ...(verdict ?? { message }) }));
      else (code === 0 ? console.log : console.error)(message);
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 2;
    },
  );
}
