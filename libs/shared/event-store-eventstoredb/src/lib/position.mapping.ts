import { START, type Position, type ReadPosition } from '@kurrent/kurrentdb-client';
import { toSafeNumber } from './bigint.conversion';

/** A `$all` position the port cannot express as one number. */
export class UnsupportedPositionError extends Error {
  override readonly name = 'UnsupportedPositionError';
}

/**
 * An event's `$all` position as the port's global position.
 *
 * Every event written through the gRPC API commits itself, and the server reports it at
 * `{commit, prepare}` = its own log position, so one number identifies it and orders it. Only
 * events from the legacy explicit transactions (TCP API) have a commit position different from
 * their prepare position, shared by the whole transaction; mapping those would break the port's
 * strictly increasing order, so they are refused.
 *
 * Positions are byte offsets in the transaction log: 2^53 bytes is 9 PB, far beyond any store,
 * but the conversion still throws instead of rounding.
 */
export function toGlobalPosition(position: Position): number {
  if (position.commit !== position.prepare) {
    throw new UnsupportedPositionError(
      `Event at $all position {commit: ${position.commit.toString()}, prepare: ${position.prepare.toString()}} ` +
        'was written in an explicit transaction; only self-committed events (every gRPC append) are supported',
    );
  }
  return toSafeNumber(position.commit, 'EventStoreDB log position');
}

/** The port's global position as a `$all` position (self-committed: commit = prepare). */
export function toPosition(globalPosition: number): Position {
  if (!Number.isSafeInteger(globalPosition) || globalPosition < 0) {
    throw new RangeError(`Global position must be a non-negative integer; got ${String(globalPosition)}`);
  }
  const offset = BigInt(globalPosition);
  return { commit: offset, prepare: offset };
}

/**
 * Where to start reading `$all` for the port's exclusive "strictly after": the server's
 * `fromPosition` is inclusive for reads (and exclusive for subscriptions), so the read starts at
 * the position itself and `isStrictlyAfter` drops the event found there. Either way nothing at
 * or before `after` is delivered.
 */
export function toStartPosition(after: number | undefined): ReadPosition {
  return after === undefined || after === 0 ? START : toPosition(after);
}

export function isStrictlyAfter(globalPosition: number, after: number | undefined): boolean {
  return after === undefined || globalPosition > after;
}
