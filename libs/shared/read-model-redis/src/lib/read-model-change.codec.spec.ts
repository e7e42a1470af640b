import { decodeReadModelChange, encodeReadModelChange } from './read-model-change.codec';

describe('read-model change codec', () => {
  it('round-trips environments and identities', () => {
    const payload = encodeReadModelChange([101, 102], [{ environmentId: 101, identifier: 'ada:*' }]);
    expect(payload).toBe('{"environmentIds":[101,102],"identities":[{"environmentId":101,"identifier":"ada:*"}]}');
    expect(decodeReadModelChange(payload as string)).toEqual({ environmentIds: [101, 102], identities: [{ environmentId: 101, identifier: 'ada:*' }] });
  });

  it('encodes nothing when nothing changed', () => {
    expect(encodeReadModelChange([], [])).toBeNull();
  });

  it('keeps only the fields of an identity reference', () => {
    const ref = { environmentId: 1, identifier: 'bob', traits: { secret: true } };
    expect(encodeReadModelChange([], [ref])).toBe('{"environmentIds":[],"identities":[{"environmentId":1,"identifier":"bob"}]}');
  });

  it.each([
    ['not JSON', 'hello'],
    ['not an object', '42'],
    ['null', 'null'],
    ['environment ids missing', '{"identities":[]}'],
    ['a non-integer environment id', '{"environmentIds":[1.5],"identities":[]}'],
    ['an identity without identifier', '{"environmentIds":[],"identities":[{"environmentId":1}]}'],
  ])('rejects a payload with %s', (_case, payload) => {
    expect(decodeReadModelChange(payload)).toBeNull();
  });
});
