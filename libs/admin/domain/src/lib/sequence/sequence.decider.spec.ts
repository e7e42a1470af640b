import { foldEvents, toEventList } from '@flagline/event-sourcing';
import { deciderSpecification } from '@flagline/event-sourcing/testing';
import { ID_SEQUENCE_STREAM, sequenceDecider, type SequenceEvent } from './sequence.decider';

describe('Id sequence', () => {
  const spec = deciderSpecification(sequenceDecider);

  it('lives in one stream of the sequence category', () => {
    expect(ID_SEQUENCE_STREAM).toBe('sequence-ids');
  });

  it('reserves its first block from 1', () => {
    spec([]).when({ type: 'ReserveIds', count: 5 }).then({ type: 'IdsReserved', data: { from: 1, count: 5 } });
  });

  it('reserves the block that follows the last one', () => {
    spec([
      { type: 'IdsReserved', data: { from: 1, count: 5 } },
      { type: 'IdsReserved', data: { from: 6, count: 10 } },
    ])
      .when({ type: 'ReserveIds', count: 1 })
      .then({ type: 'IdsReserved', data: { from: 16, count: 1 } });
  });

  it('gives consecutive, disjoint blocks', () => {
    const events: SequenceEvent[] = [];
    for (const count of [3, 1, 7]) {
      const state = foldEvents(sequenceDecider, sequenceDecider.initialState(), events, 0);
      events.push(...toEventList(sequenceDecider.decide({ type: 'ReserveIds', count }, state)));
    }
    expect(events.map((event) => event.data)).toEqual([
      { from: 1, count: 3 },
      { from: 4, count: 1 },
      { from: 5, count: 7 },
    ]);
  });

  it('never moves back when folding an older block', () => {
    const events: SequenceEvent[] = [
      { type: 'IdsReserved', data: { from: 10, count: 5 } },
      { type: 'IdsReserved', data: { from: 1, count: 2 } },
    ];
    const state = foldEvents(sequenceDecider, sequenceDecider.initialState(), events, 0);
    expect(state).toEqual({ next: 15 });
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects a count of %p', (count) => {
    spec([]).when({ type: 'ReserveIds', count }).thenThrows(Error, (error) => expect(error.message).toBe('ReserveIds needs a positive count'));
  });
});
