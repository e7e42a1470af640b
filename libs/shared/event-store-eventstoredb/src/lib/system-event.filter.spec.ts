import { EVENT_TYPE } from '@kurrent/kurrentdb-client';
import { isSystemEvent, systemEventsExcluded } from './system-event.filter';

describe('isSystemEvent', () => {
  it.each([
    ['$metadata', '$$flag-1'],
    ['$>', '$ce-flag'],
    ['$statsCollected', '$stats-127.0.0.1:2113'],
    ['Result', '$projections-flag-counter-result'],
    ['$ProjectionCheckpoint', 'projection-like-stream'],
  ])('recognises %s in %s', (type, streamId) => {
    expect(isSystemEvent({ type, streamId })).toBe(true);
  });

  it('keeps ordinary events, even with a $ inside their names', () => {
    expect(isSystemEvent({ type: 'FeatureCreated', streamId: 'feature-1' })).toBe(false);
    expect(isSystemEvent({ type: 'Price$Changed', streamId: 'plan-$1' })).toBe(false);
  });
});

describe('systemEventsExcluded', () => {
  it('asks the server to drop event types starting with $', () => {
    const filter = systemEventsExcluded();
    expect(filter.filterOn).toBe(EVENT_TYPE);
    const regex = 'regex' in filter ? new RegExp(filter.regex) : undefined;
    expect(regex?.test('FeatureCreated')).toBe(true);
    expect(regex?.test('$metadata')).toBe(false);
  });
});
