import type { DomainEvent } from '../lib/event';
import { foldEvents, toEventList, type Decider } from '../lib/decider';

type ErrorClass = abstract new (...args: never[]) => Error;

export interface ThenClause<Event> {
  then(expected: Event | readonly Event[]): void;
  thenThrows(errorClass: ErrorClass, check?: (error: Error) => void): void;
  thenNothingHappened(): void;
}

/**
 * Given/when/then for deciders (emmett's DeciderSpecification): given past events, when a
 * command is decided, then these events, this error, or nothing.
 */
export function deciderSpecification<State, Command, Event extends DomainEvent>(decider: Decider<State, Command, Event>) {
  return (given: readonly Event[] = []) => ({
    when(command: Command): ThenClause<Event> {
      const decide = (): readonly Event[] => {
        const state = foldEvents(decider, decider.initialState(), given, 0);
        return toEventList(decider.decide(command, state));
      };
      return {
        then(expected) {
          expect(decide()).toEqual(Array.isArray(expected) ? expected : [expected]);
        },
        thenThrows(errorClass, check) {
          let thrown: unknown;
          try {
            decide();
          } catch (error) {
            thrown = error;
          }
          expect(thrown).toBeInstanceOf(errorClass);
          if (check) check(thrown as Error);
        },
        thenNothingHappened() {
          expect(decide()).toEqual([]);
        },
      };
    },
  });
}
