import { FloatNumber } from '@flagline/python-compat';
import { createHash } from 'node:crypto';
import { parseIdentifyBody } from './identify-request';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

describe('parseIdentifyBody without an identifier', () => {
  const identifierOf = (traits: unknown[]): string => {
    const parsed = parseIdentifyBody({ traits });
    if ('errors' in parsed) throw new Error(JSON.stringify(parsed.errors));
    expect(parsed.request).toMatchObject({ anonymous: true, transient: true });
    return parsed.request.identifier;
  };

  it('derives it as Flagsmith does: key and str(value) of each trait in key order, hashed (True, 5.0)', () => {
    const traits = [
      { trait_key: 'b', trait_value: true },
      { trait_key: 'ab', trait_value: 'x' },
      { trait_key: 'a', trait_value: new FloatNumber(5) },
      { trait_key: 'c', trait_value: 7 },
    ];
    expect(identifierOf(traits)).toBe(sha256('a5.0abxbTruec7'));
  });

  it('tells a trait sent as 5.0 from one sent as 5', () => {
    expect(identifierOf([{ trait_key: 'score', trait_value: new FloatNumber(5) }])).not.toBe(identifierOf([{ trait_key: 'score', trait_value: 5 }]));
  });

  it('makes a random one when there are no traits', () => {
    expect(identifierOf([])).toMatch(/^[0-9a-f]{32}$/);
    expect(identifierOf([])).not.toBe(identifierOf([]));
  });
});
