import type { IHeaders } from 'kafkajs';
import type { EnvelopeDecodeFailure } from './event-envelope.codec';

/** Why a message went to the dead-letter topic. */
export type DeadLetterReason = 'handler-failed' | EnvelopeDecodeFailure;

/** Where a dead-lettered message came from and why it was given up on. */
export interface DeadLetter {
  readonly reason: DeadLetterReason;
  /** The last error's message. */
  readonly error: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly group: string;
  /** Handler attempts made; 0 when the message could not be decoded. */
  readonly attempts: number;
  readonly failedAt: string;
}

export const DEAD_LETTER_HEADER = {
  reason: 'flagline-dlq-reason',
  error: 'flagline-dlq-error',
  topic: 'flagline-dlq-topic',
  partition: 'flagline-dlq-partition',
  offset: 'flagline-dlq-offset',
  group: 'flagline-dlq-group',
  attempts: 'flagline-dlq-attempts',
  failedAt: 'flagline-dlq-failed-at',
} as const satisfies Record<keyof DeadLetter, string>;

const MAX_ERROR_LENGTH = 2000;
const REASONS: readonly DeadLetterReason[] = ['handler-failed', 'malformed-envelope', 'unsupported-message-type', 'unsupported-schema-version'];

/** The message's own headers plus the dead-letter facts, so the original can be replayed as it was. */
export function deadLetterHeaders(letter: DeadLetter, original: IHeaders = {}): IHeaders {
  return {
    ...original,
    [DEAD_LETTER_HEADER.reason]: letter.reason,
    [DEAD_LETTER_HEADER.error]: letter.error.slice(0, MAX_ERROR_LENGTH),
    [DEAD_LETTER_HEADER.topic]: letter.topic,
    [DEAD_LETTER_HEADER.partition]: String(letter.partition),
    [DEAD_LETTER_HEADER.offset]: letter.offset,
    [DEAD_LETTER_HEADER.group]: letter.group,
    [DEAD_LETTER_HEADER.attempts]: String(letter.attempts),
    [DEAD_LETTER_HEADER.failedAt]: letter.failedAt,
  };
}

function headerText(headers: IHeaders, name: string): string | undefined {
  const value = headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

/** The dead-letter facts of a message read from the dead-letter topic, or null if it carries none. */
export function readDeadLetter(headers: IHeaders = {}): DeadLetter | null {
  const text = (name: keyof DeadLetter): string | undefined => headerText(headers, DEAD_LETTER_HEADER[name]);
  const reason = REASONS.find((known) => known === text('reason'));
  const [error, topic, partition, offset, group, attempts, failedAt] = (['error', 'topic', 'partition', 'offset', 'group', 'attempts', 'failedAt'] as const).map(text);
  if (!reason || error === undefined || !topic || !partition || !offset || group === undefined || !attempts || !failedAt) return null;
  return { reason, error, topic, partition: Number(partition), offset, group, attempts: Number(attempts), failedAt };
}

/** The text of an error for a header: its message, or what it is when it is not an Error. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  try {
    return `non-error thrown: ${JSON.stringify(error)}`;
  } catch {
    return `non-error thrown: ${String(error)}`;
  }
}
