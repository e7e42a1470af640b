import { commitScriptCall, encodeCheckpoint } from './read-model-commit.script';
import { RedisReadModelKeyspace } from './redis-read-model.keyspace';

describe('read-model commit script call', () => {
  const keyspace = new RedisReadModelKeyspace('rm:test:');

  it('passes the checkpoint, then one key and one argument per write in order', () => {
    const call = commitScriptCall(
      {
        checkpoint: { key: 'checkpoint:project:1', expected: 4, next: 9 },
        writes: [{ key: 'environment:1', value: { name: 'zoë' } }, { key: 'identity:1:ada', delete: true }, { key: 'project:1', value: 0 }],
        changedEnvironments: [1],
        changedIdentities: [{ environmentId: 1, identifier: 'ada' }],
      },
      keyspace,
    );
    expect(call).toEqual({
      keys: ['rm:test:cp:checkpoint:project:1', 'rm:test:doc:environment:1', 'rm:test:doc:identity:1:ada', 'rm:test:doc:project:1'],
      args: ['4', '9', 'rm:test:changes', '{"environmentIds":[1],"identities":[{"environmentId":1,"identifier":"ada"}]}', '{"name":"zoë"}', '', '0'],
    });
  });

  it('announces nothing when no environment or identity changed', () => {
    const call = commitScriptCall({ checkpoint: { key: 'cp', expected: 0, next: 1 }, writes: [], changedEnvironments: [] }, keyspace);
    expect(call.args).toEqual(['0', '1', 'rm:test:changes', '']);
  });

  it('stores JSON null and empty strings as documents, never as deletes', () => {
    const call = commitScriptCall(
      { checkpoint: { key: 'cp', expected: 0, next: 1 }, writes: [{ key: 'a', value: null }, { key: 'b', value: '' }], changedEnvironments: [] },
      keyspace,
    );
    expect(call.args.slice(4)).toEqual(['null', '""']);
  });

  it('refuses a value JSON cannot carry', () => {
    expect(() =>
      commitScriptCall({ checkpoint: { key: 'cp', expected: 0, next: 1 }, writes: [{ key: 'a', value: undefined }], changedEnvironments: [] }, keyspace),
    ).toThrow(TypeError);
  });

  it.each([-1, 1.5, Number.MAX_SAFE_INTEGER + 2, Number.NaN])('refuses %p as a checkpoint', (position) => {
    expect(() => encodeCheckpoint(position)).toThrow(RangeError);
  });
});
