import type { DomainEvent } from './event';

/**
 * A pure decider (emmett / Chassaing shape). `decide` turns a command into events or throws a
 * domain error; `evolve` folds one event into the state and never throws. `revision` is the
 * 0-based stream revision of the event being folded, so state can remember when each entity
 * last changed (used for `If-Match`).
 */
export interface Decider<State, Command, Event extends DomainEvent> {
  decide(command: Command, state: State): Event | readonly Event[];
  evolve(state: State, event: Event, revision: number): State;
  initialState(): State;
}

/** Folds events into a state, as the command handler does after a read. */
export function foldEvents<State, Event extends DomainEvent>(
  decider: Pick<Decider<State, never, Event>, 'evolve'>,
  state: State,
  events: readonly Event[],
  firstRevision: number,
): State {
  let current = state;
  events.forEach((event, index) => {
    current = decider.evolve(current, event, firstRevision + index);
  });
  return current;
}

/** `decide` may return one event or several; this gives the list. */
export function toEventList<Event>(decided: Event | readonly Event[]): readonly Event[] {
  return Array.isArray(decided) ? (decided as readonly Event[]) : [decided as Event];
}
