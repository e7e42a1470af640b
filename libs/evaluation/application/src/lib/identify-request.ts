import { FloatNumber, valueText } from '@flagline/python-compat';
import { createHash, randomUUID } from 'node:crypto';
import type { FieldProblem } from './sdk-answer';

/** A trait value; a number written as a float with an integral value (`5.0`) is a {@link FloatNumber}. */
export type TraitValue = string | number | boolean | FloatNumber;

export interface RequestTrait {
  readonly key: string;
  readonly value: TraitValue | null;
  readonly transient: boolean;
}

export interface IdentifyRequest {
  readonly identifier: string;
  /** True when the request named no identifier and one was derived: such an identity is never stored. */
  readonly anonymous: boolean;
  readonly traits: readonly RequestTrait[];
  readonly transient: boolean;
}

export const MAX_IDENTIFIER_LENGTH = 2000;
export const MAX_TRAIT_VALUE_LENGTH = 2000;
export const MAX_TRAIT_KEY_LENGTH = 255;
export const MAX_TRAITS = 200;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A trait value as Python's `str()` prints it: `True`, `5.0`. */
function pyText(value: TraitValue): string {
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  return valueText(value);
}

/**
 * Without an identifier, Flagsmith derives one from the traits: the SHA-256 of each key followed
 * by `str()` of its value, in key order (or a random one without traits).
 */
function derivedIdentifier(traits: readonly RequestTrait[]): string {
  const pairs = traits
    .filter((trait): trait is RequestTrait & { value: TraitValue } => trait.value !== null)
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((trait) => `${trait.key}${pyText(trait.value)}`);
  if (pairs.length === 0) return randomUUID().replace(/-/g, '');
  return createHash('sha256').update(pairs.join('')).digest('hex');
}

/** Parses `POST /api/v1/identities/`: `{identifier?, traits?: [{trait_key, trait_value, transient?}], transient?}`. */
export function parseIdentifyBody(body: unknown): { request: IdentifyRequest } | { errors: FieldProblem[] } {
  if (!isRecord(body)) return { errors: [{ field: 'body', message: 'must be a JSON object' }] };
  const errors: FieldProblem[] = [];
  const identifier = body['identifier'];
  if (identifier !== undefined && identifier !== null && (typeof identifier !== 'string' || identifier.length === 0 || identifier.length > MAX_IDENTIFIER_LENGTH))
    errors.push({ field: 'identifier', message: `must be a string of 1 to ${MAX_IDENTIFIER_LENGTH} characters` });
  const transient = body['transient'];
  if (transient !== undefined && transient !== null && typeof transient !== 'boolean') errors.push({ field: 'transient', message: 'must be a boolean' });
  const rawTraits = body['traits'];
  const traits: RequestTrait[] = [];
  if (rawTraits !== undefined && rawTraits !== null) {
    if (!Array.isArray(rawTraits)) errors.push({ field: 'traits', message: 'must be a list of {trait_key, trait_value}' });
    else if (rawTraits.length > MAX_TRAITS) errors.push({ field: 'traits', message: `may hold at most ${MAX_TRAITS} traits` });
    else
      // A plain loop, each field's name built only for a problem: this runs on every identify.
      for (let index = 0; index < rawTraits.length; index++) {
        const trait: unknown = rawTraits[index];
        if (!isRecord(trait)) {
          errors.push({ field: `traits[${index}]`, message: 'must be an object {trait_key, trait_value}' });
          continue;
        }
        const key = trait['trait_key'];
        const value = trait['trait_value'];
        const traitTransient = trait['transient'];
        if (typeof key !== 'string' || key.length === 0 || key.length > MAX_TRAIT_KEY_LENGTH)
          errors.push({ field: `traits[${index}].trait_key`, message: `must be a string of 1 to ${MAX_TRAIT_KEY_LENGTH} characters` });
        const valueOk =
          value === null ||
          value === undefined ||
          typeof value === 'boolean' ||
          (typeof value === 'number' && Number.isFinite(value)) ||
          value instanceof FloatNumber ||
          (typeof value === 'string' && value.length <= MAX_TRAIT_VALUE_LENGTH);
        if (!valueOk) errors.push({ field: `traits[${index}].trait_value`, message: `must be a string (at most ${MAX_TRAIT_VALUE_LENGTH} characters), a number, a boolean or null` });
        if (traitTransient !== undefined && traitTransient !== null && typeof traitTransient !== 'boolean')
          errors.push({ field: `traits[${index}].transient`, message: 'must be a boolean' });
        if (typeof key === 'string' && valueOk) traits.push({ key, value: value ?? null, transient: traitTransient === true });
      }
  }
  if (errors.length > 0) return { errors };
  const named = typeof identifier === 'string';
  return {
    request: {
      identifier: named ? identifier : derivedIdentifier(traits),
      anonymous: !named,
      traits,
      transient: transient === true || !named,
    },
  };
}
