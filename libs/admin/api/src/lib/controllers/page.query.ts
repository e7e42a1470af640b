import { decodeCursor, type PageRequest, type SortKeyShape } from '@flagline/admin-application';
import { RequestValidationError, type FieldErrorBody } from '../http/api-error';
import { pageSize } from '../http/id.pipe';
import { ParameterPipe } from '../http/parameter-check.interceptor';

/** A query value as text; a repeated or nested parameter keeps a form no check accepts. */
export const queryText = (value: unknown): string | undefined => (typeof value === 'string' ? value : value === undefined ? undefined : JSON.stringify(value));

/** Field errors of `?after=` and `?pageSize=`, and the page they ask for when both are good. */
export function pageQuery(query: Record<string, unknown>, shape: SortKeyShape, form?: RegExp): { page?: PageRequest; errors: FieldErrorBody[] } {
  const errors: FieldErrorBody[] = [];
  const text = queryText(query['after']);
  const after = text === undefined ? undefined : form && !form.test(text) ? null : decodeCursor(text, shape);
  if (after === null) errors.push({ field: 'after', message: 'must be a cursor returned by this API (the `next` of a page)' });
  let limit: number | undefined;
  try {
    limit = pageSize(queryText(query['pageSize']));
  } catch (error) {
    if (!(error instanceof RequestValidationError)) throw error;
    errors.push(...error.errors);
  }
  if (errors.length > 0 || limit === undefined || after === null) return { errors };
  return { page: { ...(after !== undefined ? { after } : {}), limit }, errors };
}

/** `?after=<cursor>&pageSize=<n>` of a collection route; a bad cursor or size is a 400 naming it. */
export class PageQueryPipe extends ParameterPipe<PageRequest> {
  /** `form`: the only texts a one-text key takes (generated ids), so that any other cursor is a 400. */
  constructor(
    readonly shape: SortKeyShape = ['number'],
    readonly form?: RegExp,
  ) {
    super();
  }

  /** The cursor's form, for the OpenAPI document: numbers joined by dots, a generated id's form, or any text of a one-text key. */
  get cursorSchema(): { type: 'string'; pattern?: string; minLength?: number; maxLength?: number } {
    if (this.form) return { type: 'string', pattern: this.form.source };
    if (this.shape.length === 1 && this.shape[0] === 'string') return { type: 'string', minLength: 1, maxLength: 2000 };
    return { type: 'string', pattern: `^${this.shape.map(() => '[0-9]{1,15}').join('\\.')}$` };
  }

  transform(value: unknown): PageRequest {
    const { page, errors } = pageQuery(typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {}, this.shape, this.form);
    if (!page) throw new RequestValidationError(errors);
    return page;
  }
}

/** Collections ordered by id. */
export const BY_ID = new PageQueryPipe(['number']);
/** API keys, ordered by key id (`key_` and 12 letters or digits). */
export const BY_KEY_ID = new PageQueryPipe(['string'], /^key_[0-9A-Za-z]{12}$/);
/** Invitations, ordered by id (a UUID). */
export const BY_INVITATION_ID = new PageQueryPipe(['string'], /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
