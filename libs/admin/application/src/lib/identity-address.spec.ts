import { identityIdFor as domainIdentityId } from '@flagline/admin-domain';
import { identityIdFor as sharedIdentityId } from '@flagline/contracts';

describe('identity addressing', () => {
  it('is the same on the write side and in the contracts the evaluation side uses', () => {
    for (const [environmentId, identifier] of [[1, 'ada'], [42, 'zoë 🚀'], [7, ''], [9, 'a\u0000b']] as const) {
      expect(sharedIdentityId(environmentId, identifier)).toBe(domainIdentityId(environmentId, identifier));
    }
  });
});
