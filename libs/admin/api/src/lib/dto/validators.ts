import {
  conditionValueProblem,
  featureValueProblem,
  MAX_CONDITION_VALUE_LENGTH,
  normaliseConditionValue,
  OPERATORS,
  traitValueProblem,
  type ConditionValueInput,
  type Operator,
} from '@flagline/admin-domain';
import { Transform, Type } from 'class-transformer';
import { registerDecorator, ValidateIf, type ValidationArguments, type ValidationOptions } from 'class-validator';

/** Optional, but when present (null included) validated: unlike `IsOptional`, null is not silently accepted. */
export const Optional = (): PropertyDecorator => ValidateIf((_object: object, value: unknown) => value !== undefined);

/** A property checked by `problem` (given the value and the object holding it): null when valid, else why not. */
function custom(name: string, problem: (value: unknown, object: object) => string | null, options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name,
      target: target.constructor,
      propertyName: String(propertyName),
      ...(options ? { options } : {}),
      validator: {
        validate: (value: unknown, args?: ValidationArguments) => problem(value, args?.object ?? {}) === null,
        defaultMessage: (args?: ValidationArguments) => `${args?.property ?? 'value'} ${problem(args?.value, args?.object ?? {}) ?? 'is invalid'}`,
      },
    });
  };
}

/** A feature value: string, integer, boolean or null. */
export const IsFeatureValue = (options?: ValidationOptions): PropertyDecorator =>
  custom('isFeatureValue', (value) => (value === undefined ? 'is required' : featureValueProblem(value)), options);

export const MAX_TRAITS = 200;
export const MAX_TRAIT_KEY_LENGTH = 255;

/** Reason a traits object is invalid, naming the bad trait, or null. */
export function traitMapProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'must be an object of trait values';
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_TRAITS) return `may hold at most ${MAX_TRAITS} traits`;
  for (const [key, trait] of entries) {
    if (key.length === 0 || key.length > MAX_TRAIT_KEY_LENGTH) return `has a trait key that is empty or longer than ${MAX_TRAIT_KEY_LENGTH} characters`;
    const problem = traitValueProblem(trait);
    if (problem) return `has trait "${key}" that ${problem}`;
  }
  return null;
}

const rawTraitHolders = new WeakSet<object>();

/**
 * Keeps a traits object as sent. Trait names are free text ("constructor", "__proto__",
 * "toString"): the validation pipe leaves the traits of such a DTO unstripped, class-transformer
 * copies them as a plain object (it would drop such keys, or fail guessing a type from an own
 * "constructor"), then the copy is replaced by the object as sent.
 */
export const RawTraits = (): PropertyDecorator => (target: object, propertyName: string | symbol) => {
  rawTraitHolders.add(target.constructor);
  Type(() => Object)(target, propertyName);
  Transform(({ obj, key }) => (obj as Record<string, unknown>)[key])(target, propertyName);
};

/** True for a DTO class with a `RawTraits` property. */
export const holdsRawTraits = (metatype: unknown): boolean => typeof metatype === 'function' && rawTraitHolders.has(metatype);

/** An object of traits: each a string, number or boolean, or null to remove it. */
export const IsTraitMap = (options?: ValidationOptions): PropertyDecorator => custom('isTraitMap', traitMapProblem, options);

const operatorOf = (condition: object): Operator | null => {
  const operator = (condition as { operator?: unknown }).operator;
  return typeof operator === 'string' && (OPERATORS as readonly string[]).includes(operator) ? (operator as Operator) : null;
};

/**
 * A condition value: a string, number or boolean, a list of them (for IN), or null (IS_SET /
 * IS_NOT_SET); then checked for the condition's operator as the domain checks it (a REGEX must
 * compile, MODULO is "divisor|remainder"...), so these problems are reported with the others.
 */
export const IsConditionValue = (options?: ValidationOptions): PropertyDecorator =>
  custom(
    'isConditionValue',
    (value, condition) => {
      const scalar = (v: unknown) => typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
      if (!(value === null || value === undefined || scalar(value) || (Array.isArray(value) && value.every(scalar))))
        return 'must be a string, a number, a boolean or a list of them';
      const operator = operatorOf(condition);
      return operator ? conditionValueProblem(operator, normaliseConditionValue(operator, value as ConditionValueInput)) : null;
    },
    options,
  );

/** A condition property (a trait name or a JSONPath): required, except for a percentage split on the identity. */
export const IsConditionProperty = (options?: ValidationOptions): PropertyDecorator =>
  custom(
    'isConditionProperty',
    (value, condition) => {
      if (value === undefined || value === '') return operatorOf(condition) === 'PERCENTAGE_SPLIT' ? null : 'is required';
      if (typeof value !== 'string') return 'must be a string';
      return value.length > MAX_CONDITION_VALUE_LENGTH ? `must be at most ${MAX_CONDITION_VALUE_LENGTH} characters` : null;
    },
    options,
  );
