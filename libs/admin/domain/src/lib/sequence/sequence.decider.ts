import type { Decider, DomainEvent } from '@flagline/event-sourcing';

/**
 * Numeric ids are reserved in blocks from one event-sourced sequence: small integers that are
 * unique across the platform (Flagsmith's SDKs read feature, segment and environment ids as
 * 32-bit integers), safe under concurrent writers thanks to the expected revision, and durable
 * without any other store. A block lost to a crash only leaves a gap.
 */
export type IdsReserved = DomainEvent<'IdsReserved', { from: number; count: number }>;
export type SequenceEvent = IdsReserved;
export type SequenceCommand = { type: 'ReserveIds'; count: number };
export interface Sequence {
  /** The next id not yet reserved. */
  readonly next: number;
}

export const ID_SEQUENCE_STREAM = 'sequence-ids';

export const sequenceDecider: Decider<Sequence, SequenceCommand, SequenceEvent> = {
  initialState: () => ({ next: 1 }),
  decide: (command, state) => {
    if (!Number.isInteger(command.count) || command.count < 1) throw new Error('ReserveIds needs a positive count');
    return { type: 'IdsReserved', data: { from: state.next, count: command.count } };
  },
  evolve: (state, event) => ({ next: Math.max(state.next, event.data.from + event.data.count) }),
};
