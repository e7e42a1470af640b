import type { IdentityDocument } from '@flagline/contracts';
import { floatJson, FloatNumber } from '@flagline/python-compat';
import type { TraitValue } from './identify-request';

const withFloats = new WeakMap<IdentityDocument, Readonly<Record<string, TraitValue>>>();

/**
 * A stored identity's traits as the engine reads them: a trait stored as a float with an
 * integral value (`5.0`, named in the document's `floats`) is a {@link FloatNumber}. Made once per
 * document (documents are immutable); the plain traits object itself when there are no such floats.
 */
export function storedTraits(identity: IdentityDocument): Readonly<Record<string, TraitValue>> {
  const floats = identity.floats;
  if (floats === undefined || floats.length === 0) return identity.traits;
  let traits = withFloats.get(identity);
  if (traits === undefined) {
    const typed: Record<string, TraitValue> = { ...identity.traits };
    for (const key of floats) {
      const value = typed[key];
      if (typeof value === 'number') Object.defineProperty(typed, key, { value: new FloatNumber(value), enumerable: true, writable: true, configurable: true });
    }
    traits = typed;
    withFloats.set(identity, traits);
  }
  return traits;
}

/** A trait value as JSON, a float written as a float (`5.0`), as Flagsmith answers it. */
export function traitValueJson(value: TraitValue | undefined): string {
  // A finite number's JSON is its String() form (-0 included); only strings need JSON's escaping.
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return value instanceof FloatNumber ? floatJson(value.valueOf()) : (JSON.stringify(value) ?? 'null');
}
