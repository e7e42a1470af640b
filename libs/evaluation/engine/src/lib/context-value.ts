/**
 * Context values: what a condition's property resolves to, typed the way Python sees it
 * (None, str, int, float or bool) after Flagsmith's coercion of numeric-looking strings.
 */
import { pyFloatRepr, pyIntFromDigits, pyIntToString, type PyInt } from './python/python-number';
import { explicitFloat } from './float-number';
import { pyRepr } from './python/python-string';

/** Python type of a context value. */
export const ValueKind = { None: 1, Str: 2, Int: 3, Float: 4, Bool: 5 } as const;

/** One of the {@link ValueKind} codes. */
export type ValueKind = (typeof ValueKind)[keyof typeof ValueKind];

/** A resolved context value, tagged with its Python type. */
export type ContextValue =
  | { readonly kind: typeof ValueKind.None; readonly value: null }
  | { readonly kind: typeof ValueKind.Str; readonly value: string }
  | { readonly kind: typeof ValueKind.Int; readonly value: PyInt }
  | { readonly kind: typeof ValueKind.Float; readonly value: number }
  | { readonly kind: typeof ValueKind.Bool; readonly value: boolean };

/** The missing value (`None`). */
export const NONE: ContextValue = Object.freeze({ kind: ValueKind.None, value: null });
const TRUE: ContextValue = Object.freeze({ kind: ValueKind.Bool, value: true });
const FALSE: ContextValue = Object.freeze({ kind: ValueKind.Bool, value: false });

const INT_TEXT = /^-?[0-9]+$/;
const FLOAT_TEXT = /^-?[0-9]+\.[0-9]+$/;

/**
 * What to do with an object or array: a trait holding one is stringified (Python `str()`), while
 * a JSONPath landing on one yields None.
 */
export const NonPrimitive = { Stringify: 0, None: 1 } as const;

/** One of the {@link NonPrimitive} policies. */
export type NonPrimitive = (typeof NonPrimitive)[keyof typeof NonPrimitive];

/** Types a numeric-looking string the way Flagsmith does: `"7"` is an int, `"7.0"` a float. */
export function stringContextValue(text: string): ContextValue {
  if (INT_TEXT.test(text)) {
    const negative = text.charCodeAt(0) === 0x2d;
    return { kind: ValueKind.Int, value: pyIntFromDigits(negative, negative ? text.slice(1) : text) };
  }
  if (FLOAT_TEXT.test(text)) return { kind: ValueKind.Float, value: Number(text) };
  return { kind: ValueKind.Str, value: text };
}

/**
 * Maps a raw value (trait value, JSONPath result) to a context value. JS numbers do not say
 * whether they were written `1` or `1.0`: integral ones are taken as Python ints, unless boxed in
 * a `FloatNumber`.
 */
export function toContextValue(raw: unknown, nonPrimitive: NonPrimitive): ContextValue {
  switch (typeof raw) {
    case 'string':
      return stringContextValue(raw);
    case 'number':
      return Number.isInteger(raw)
        ? { kind: ValueKind.Int, value: raw === 0 ? 0 : raw }
        : { kind: ValueKind.Float, value: raw };
    case 'boolean':
      return raw ? TRUE : FALSE;
    case 'bigint':
      return { kind: ValueKind.Int, value: raw };
    case 'undefined':
      return NONE;
    case 'object':
    case 'function':
    case 'symbol': {
      const float = explicitFloat(raw);
      if (float !== undefined) return { kind: ValueKind.Float, value: float };
      if (raw === null || nonPrimitive === NonPrimitive.None) return NONE;
      return { kind: ValueKind.Str, value: pyRepr(raw) };
    }
  }
}

/** Python `str()` of a context value (`True`, `1.0`, `None`). */
export function contextValueToString(value: ContextValue): string {
  switch (value.kind) {
    case ValueKind.None:
      return 'None';
    case ValueKind.Str:
      return value.value;
    case ValueKind.Int:
      return pyIntToString(value.value);
    case ValueKind.Float:
      return pyFloatRepr(value.value);
    case ValueKind.Bool:
      return value.value ? 'True' : 'False';
  }
}
