import { ofrepReason } from './ofrep.service';

describe('OFREP reasons of Flagsmith outcomes', () => {
  it.each([
    ['STATIC', 'STATIC'],
    ['DEFAULT', 'DEFAULT'],
    ['TARGETING_MATCH; segment=power users', 'TARGETING_MATCH'],
    ['TARGETING_MATCH; segment=identity_overrides', 'TARGETING_MATCH'],
    ['SPLIT; weight=30', 'SPLIT'],
    ['ERROR; code=CIRCULAR_DEPENDENCY', 'ERROR'],
    ['SOMETHING_NEW', 'DEFAULT'],
  ])('when an enabled flag has reason %s, then OFREP reports %s', (reason, expected) => {
    expect(ofrepReason({ enabled: true, reason })).toBe(expected);
  });

  it.each(['STATIC', 'TARGETING_MATCH; segment=beta', 'SPLIT; weight=50'])('when a flag is disabled (reason %s), then OFREP reports DISABLED', (reason) => {
    expect(ofrepReason({ enabled: false, reason })).toBe('DISABLED');
  });
});
