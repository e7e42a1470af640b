import { parseConnectionString } from '@kurrent/kurrentdb-client/dist/Client/parseConnectionString';

/** What the client's parser says it expected where a connection string went wrong. */
interface ParseFailure {
  readonly expected: string;
  readonly location: readonly [number, number];
}

function isParseFailure(error: unknown): error is ParseFailure {
  return typeof error === 'object' && error !== null && typeof (error as { expected?: unknown }).expected === 'string' && Array.isArray((error as { location?: unknown }).location);
}

/**
 * Why the KurrentDB/EventStoreDB client would refuse a connection string, or undefined when it
 * accepts it: the client's own parser decides (single node, gossip seeds `host:port,host:port`,
 * `+discover`, every query option), so every form it takes is taken. The problem gives what was
 * expected and where, never the string itself (it may hold a password).
 */
export function eventStoreConnectionStringProblem(connectionString: string): string | undefined {
  try {
    parseConnectionString(connectionString);
    return undefined;
  } catch (error: unknown) {
    if (isParseFailure(error)) return `expected ${error.expected} at position ${error.location[0]}`;
    return error instanceof Error ? error.constructor.name : 'unparseable';
  }
}
