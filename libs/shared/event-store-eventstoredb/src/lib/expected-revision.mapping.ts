import { ANY, NO_STREAM, STREAM_EXISTS, type AppendStreamState } from '@kurrent/kurrentdb-client';
import type { ExpectedRevision } from '@flagline/event-sourcing';

/**
 * The port's expected revision as the client's stream state. A concrete revision must be a
 * non-negative safe integer: the server reads -1 as "no stream" and -2 as "any", so passing a
 * negative number through would silently weaken the check instead of failing it.
 */
export function toStreamState(expected: ExpectedRevision): AppendStreamState {
  switch (expected) {
    case 'any':
      return ANY;
    case 'no_stream':
      return NO_STREAM;
    case 'stream_exists':
      return STREAM_EXISTS;
    default:
      if (!Number.isSafeInteger(expected) || expected < 0) {
        throw new RangeError(`Expected revision must be a non-negative integer, 'no_stream', 'stream_exists' or 'any'; got ${String(expected)}`);
      }
      return BigInt(expected);
  }
}
