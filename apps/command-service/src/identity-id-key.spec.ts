import { identityIdFor, identityIdsWith } from '@flagline/admin-domain';
import { randomBytes } from 'node:crypto';
import { loadCommandServiceConfig } from './command-service';

const BASE = { EVENT_STORE: 'embedded', DATA_DIR: '/tmp/unused', ADMIN_API_KEY: 'admin-key-for-the-spec-0123', INTERNAL_API_TOKEN: 'internal-token-for-the-spec' };

describe('IDENTITY_ID_KEY of the command service', () => {
  it('keys identity ids with the 32 bytes it names', () => {
    const key = randomBytes(32);
    const config = loadCommandServiceConfig({ ...BASE, IDENTITY_ID_KEY: key.toString('base64') });
    expect(config.identityIdKey?.equals(key)).toBe(true);
    const keyed = identityIdsWith(config.identityIdKey ?? null);
    expect(keyed(3, 'ada')).toMatch(/^[0-9a-f]{32}$/);
    expect(keyed(3, 'ada')).not.toBe(identityIdFor(3, 'ada'));
    expect(keyed(3, 'ada')).toBe(identityIdsWith(Buffer.from(key))(3, 'ada'));
    expect(identityIdsWith(randomBytes(32))(3, 'ada')).not.toBe(keyed(3, 'ada'));
  });

  it('leaves ids unkeyed when unset', () => {
    expect(loadCommandServiceConfig(BASE).identityIdKey).toBeUndefined();
  });

  it.each(['short', randomBytes(16).toString('base64'), `${randomBytes(32).toString('base64')}x`])('refuses %p, naming the variable', (value) => {
    expect(() => loadCommandServiceConfig({ ...BASE, IDENTITY_ID_KEY: value })).toThrow(/IDENTITY_ID_KEY/);
  });
});
