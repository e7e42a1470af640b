import type { ReadModelBatchCommit } from '@flagline/contracts';
import { encodeCheckpoint, encodeDocument, luaApplyWrites, type ScriptCall } from './read-model-commit.script';
import { encodeReadModelChange } from './read-model-change.codec';
import type { RedisReadModelKeyspace } from './redis-read-model.keyspace';

/**
 * A batch of read-model commits as one Lua script: every checkpoint is compared before anything
 * is written, so a batch that lost a race on any of its checkpoints (a redelivery, a batch
 * overlapping one already applied, a second projector instance) writes nothing at all. As in
 * READ_MODEL_COMMIT_SCRIPT, nothing after the comparisons can fail on a key's type, so the
 * script never stops half-way; Redis runs it without interleaving, so no reader sees half a batch.
 *
 * KEYS[1..c]  the checkpoints; KEYS[c+1..]: the document of each write, in order
 * ARGV[1]  c; ARGV[2]: notification channel; ARGV[3]: notification payload, '' for none
 * ARGV[4..c+3]  expected checkpoints; ARGV[c+4..2c+3]: next checkpoints
 * ARGV[2c+4..]  each write's JSON text, '' for a delete
 */
export const READ_MODEL_BATCH_COMMIT_SCRIPT = `
local c = tonumber(ARGV[1])
for i = 1, c do
  local current = redis.call('GET', KEYS[i])
  if current == false then current = '0' end
  if current ~= ARGV[i + 3] then return 0 end
end
local values = 2 * c + 3
${luaApplyWrites('c + 1', 'values + i - c')}
for i = 1, c do
  redis.call('SET', KEYS[i], ARGV[c + i + 3])
end
if ARGV[3] ~= '' then
  redis.call('PUBLISH', ARGV[2], ARGV[3])
end
return 1
`;

/** The keys and arguments of READ_MODEL_BATCH_COMMIT_SCRIPT for one batch. */
export function batchCommitScriptCall(batch: ReadModelBatchCommit, keyspace: RedisReadModelKeyspace): ScriptCall {
  if (batch.checkpoints.length === 0) throw new RangeError('A batch commit needs at least one checkpoint');
  const seen = new Set<string>();
  for (const { key } of batch.checkpoints) {
    if (seen.has(key)) throw new RangeError(`Checkpoint ${key} appears twice in one batch commit`);
    seen.add(key);
  }
  const notification = encodeReadModelChange(batch.changedEnvironments, batch.changedIdentities) ?? '';
  return {
    keys: [...batch.checkpoints.map(({ key }) => keyspace.checkpoint(key)), ...batch.writes.map((write) => keyspace.document(write.key))],
    args: [
      String(batch.checkpoints.length),
      keyspace.changesChannel,
      notification,
      ...batch.checkpoints.map(({ expected }) => encodeCheckpoint(expected)),
      ...batch.checkpoints.map(({ next }) => encodeCheckpoint(next)),
      ...batch.writes.map((write) => ('delete' in write ? '' : encodeDocument(write.key, write.value))),
    ],
  };
}
