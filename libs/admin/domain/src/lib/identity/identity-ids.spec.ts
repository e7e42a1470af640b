import { createHmac, randomBytes } from 'node:crypto';
import { identityIdFor, identityIdsWith } from './identity.decider';

/** HMAC-SHA-256 of environment and identifier under the key, as the README specifies keyed ids (first 128 bits, hex). */
const hmacId = (key: Buffer, environmentId: number, identifier: string): string =>
  createHmac('sha256', key).update(`${environmentId}\u0000${identifier}`).digest('hex').slice(0, 32);

describe('identityIdsWith', () => {
  it('derives each keyed id from its own environment and identifier, whatever was asked before (the last one is remembered)', () => {
    const key = randomBytes(32);
    const ids = identityIdsWith(key);
    const asked: [number, string][] = [
      [3, 'ada'],
      [3, 'ada'],
      [4, 'ada'],
      [3, 'grace'],
      [3, 'ada'],
      [30, 'ada'],
      [3, '0ada'],
      [3, ''],
      [3, ''],
      [0, 'x'],
    ];
    for (const [environmentId, identifier] of asked) expect(ids(environmentId, identifier)).toBe(hmacId(key, environmentId, identifier));
  });

  it('keeps the instances apart: another key gives other ids, no key the unkeyed digest', () => {
    const one = identityIdsWith(randomBytes(32));
    const other = identityIdsWith(randomBytes(32));
    expect(one(3, 'ada')).not.toBe(other(3, 'ada'));
    expect(identityIdsWith(null)).toBe(identityIdFor);
  });
});
