import { ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';
import { holdsRawTraits } from '../dto/validators';
import { RequestValidationError, type FieldErrorBody } from './api-error';

/** Flattens class-validator's error tree into one entry per bad field, named by its path (`rules[0].conditions[1].value`). */
export function flattenValidationErrors(errors: readonly ValidationError[], parent = ''): FieldErrorBody[] {
  return errors.flatMap((error) => {
    const isIndex = /^\d+$/.test(error.property);
    const path = parent === '' ? error.property : isIndex ? `${parent}[${error.property}]` : `${parent}.${error.property}`;
    const own = Object.entries(error.constraints ?? {}).map(([constraint, message]) => ({
      field: path,
      message: constraint === 'whitelistValidation' ? 'is not an accepted field' : message.replace(/^\S+ /, ''),
    }));
    return [...own, ...flattenValidationErrors(error.children ?? [], path)];
  });
}

/**
 * Nest's validation pipe deletes `__proto__`, `prototype` and `constructor` keys anywhere in a
 * body. Trait names are free text, so the `traits` object of a body whose DTO keeps raw traits
 * is left as sent: its keys are only read as own properties, never assigned onto other objects.
 */
class AdminValidationPipe extends ValidationPipe {
  private readonly keepTraits = new WeakSet<object>();

  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && typeof value === 'object' && value !== null && holdsRawTraits(metadata.metatype)) this.keepTraits.add(value);
    return super.transform(value, metadata) as Promise<unknown>;
  }

  protected override stripProtoKeys(value: unknown): void {
    if (typeof value !== 'object' || value === null || !this.keepTraits.has(value) || !Object.hasOwn(value, 'traits')) {
      super.stripProtoKeys(value);
      return;
    }
    const holder = value as Record<string, unknown>;
    const traits = holder['traits'];
    delete holder['traits'];
    try {
      super.stripProtoKeys(holder);
      // The trait names stay; anything nested under them (never a valid trait value) is stripped.
      if (typeof traits === 'object' && traits !== null) for (const nested of Object.values(traits)) super.stripProtoKeys(nested);
      else super.stripProtoKeys(traits);
    } finally {
      holder['traits'] = traits;
    }
  }
}

/** Strict DTO validation: unknown fields are errors, nothing is coerced behind the caller's back. */
export function createValidationPipe(): ValidationPipe {
  return new AdminValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new RequestValidationError(flattenValidationErrors(errors)),
  });
}
