/**
 * A number that is a float in Flagsmith's sense although its value is integral, like a trait
 * written `2.0`. Flagsmith's reference semantics distinguish ints from floats (`2` compared with
 * `"2.1"` fails, since `"2.1"` is no int, while `2.0 < 2.1` holds; `str(2.0)` is `2.0`), but
 * `JSON.parse` turns `2.0` into `2`, which the engine then reads as an int. Callers that keep the
 * written form of numbers wrap such values (trait values, variant weights) in a `FloatNumber`.
 * It still behaves as a number in arithmetic and in `JSON.stringify`.
 */
export class FloatNumber extends Number {}

/** The value of a boxed number (a {@link FloatNumber}), which the engine reads as a float. */
export function explicitFloat(value: unknown): number | undefined {
  return value instanceof Number ? value.valueOf() : undefined;
}
