/** A server-side 64-bit number as a JS number; throws rather than round when it is beyond 2^53. */
export function toSafeNumber(value: bigint, what: string): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number)) {
    throw new RangeError(`${what} ${value.toString()} is not a safe JS integer`);
  }
  return number;
}
