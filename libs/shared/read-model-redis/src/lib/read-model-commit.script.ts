import type { ReadModelCommit } from '@flagline/contracts';
import { encodeReadModelChange } from './read-model-change.codec';
import type { RedisReadModelKeyspace } from './redis-read-model.keyspace';

/**
 * One read-model commit as one Lua script. Redis runs a script without interleaving any other
 * command, so the checkpoint comparison, the writes, the checkpoint move and the notification
 * form one step: a replayed event or a stale projector instance finds the checkpoint moved on
 * and writes nothing, and no reader ever sees half a commit.
 *
 * Checkpoints are compared as the decimal strings this adapter writes, which avoids Lua's
 * floating-point numbers. Nothing after the comparison can fail on a key's type (SET and DEL
 * accept any), so the script never stops half-way through its writes.
 *
 * KEYS[1]  checkpoint; KEYS[2..n+1]: the document of each write, in order
 * ARGV[1]  expected checkpoint; ARGV[2]: next checkpoint
 * ARGV[3]  notification channel; ARGV[4]: notification payload, '' when nothing to announce
 * ARGV[5..n+4]  each write's JSON text, '' for a delete (JSON text is never empty)
 */
/**
 * Lua applying the writes: KEYS[first..] are the documents, `valueOf` the Lua expression (of
 * `i`) giving each one's JSON text in ARGV, '' for a delete. SET and DEL accept a key of any
 * type, so the loop cannot stop half-way.
 */
export const luaApplyWrites = (first: string, valueOf: string): string => `for i = ${first}, #KEYS do
  local value = ARGV[${valueOf}]
  if value == '' then
    redis.call('DEL', KEYS[i])
  else
    redis.call('SET', KEYS[i], value)
  end
end`;

export const READ_MODEL_COMMIT_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if current == false then current = '0' end
if current ~= ARGV[1] then return 0 end
${luaApplyWrites('2', 'i + 3')}
redis.call('SET', KEYS[1], ARGV[2])
if ARGV[4] ~= '' then
  redis.call('PUBLISH', ARGV[3], ARGV[4])
end
return 1
`;

export interface ScriptCall {
  readonly keys: string[];
  readonly args: string[];
}

/** The checkpoint as the script compares and stores it. */
export function encodeCheckpoint(position: number): string {
  if (!Number.isSafeInteger(position) || position < 0) throw new RangeError(`A checkpoint must be a non-negative integer, got ${position}`);
  return String(position);
}

export function encodeDocument(key: string, value: unknown): string {
  const text = JSON.stringify(value) as string | undefined;
  if (text === undefined) throw new TypeError(`The document for ${key} is not JSON (${typeof value})`);
  return text;
}

/** The keys and arguments of READ_MODEL_COMMIT_SCRIPT for one commit. */
export function commitScriptCall(commit: ReadModelCommit, keyspace: RedisReadModelKeyspace): ScriptCall {
  const { key, expected, next } = commit.checkpoint;
  const notification = encodeReadModelChange(commit.changedEnvironments, commit.changedIdentities ?? []) ?? '';
  return {
    keys: [keyspace.checkpoint(key), ...commit.writes.map((write) => keyspace.document(write.key))],
    args: [
      encodeCheckpoint(expected),
      encodeCheckpoint(next),
      keyspace.changesChannel,
      notification,
      ...commit.writes.map((write) => ('delete' in write ? '' : encodeDocument(write.key, write.value))),
    ],
  };
}
