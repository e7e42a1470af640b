import { ValidationPipe, type ValidationError } from '@nestjs/common';
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

/** Strict DTO validation: unknown fields are errors, nothing is coerced behind the caller's back. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new RequestValidationError(flattenValidationErrors(errors)),
  });
}
