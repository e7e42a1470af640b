import { ErrorType, isCommandError, type CurrentStreamState } from '@kurrent/kurrentdb-client';
import { ConcurrencyError, type ExpectedRevision } from '@flagline/event-sourcing';
import { toSafeNumber } from './bigint.conversion';

/** The client's current stream state as the port's actual revision (null: no stream). */
export function toActualRevision(state: CurrentStreamState): number | null {
  // The server encodes a missing stream as -1 in some responses and as "no_stream" in others.
  if (state === 'no_stream' || state < 0n) return null;
  return toSafeNumber(state, 'Stream revision');
}

/**
 * Turns a failed append into the port's error. The client reports a wrong expected revision as
 * `WrongExpectedVersionError` with the stream's actual state; a partial retry (some event ids of
 * the batch stored at that place, others not) arrives the same way, since the server answers it
 * as a wrong expected version. Everything else (access denied, deleted stream, unavailable, ...)
 * propagates unchanged.
 */
export function translateAppendError(error: unknown, streamName: string, expected: ExpectedRevision): Error {
  if (error instanceof Error && isCommandError(error) && error.type === ErrorType.WRONG_EXPECTED_VERSION) {
    return new ConcurrencyError(streamName, expected, toActualRevision(error.actualState));
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** Reading a stream that does not exist fails in the client; the port reports it as no stream. */
export function isStreamNotFound(error: unknown): boolean {
  return error instanceof Error && isCommandError(error) && error.type === ErrorType.STREAM_NOT_FOUND;
}
