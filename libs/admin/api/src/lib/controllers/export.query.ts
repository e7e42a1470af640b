import type { ExportEntity, ExportQuery } from '@flagline/admin-application';
import { EVENT_SCHEMA_VERSIONS } from '@flagline/admin-domain';
import { Injectable } from '@nestjs/common';
import { RequestValidationError, type FieldErrorBody } from '../http/api-error';
import { ParameterPipe } from '../http/parameter-check.interceptor';
import { queryText } from './page.query';

export type ExportFormat = 'ndjson' | 'csv';

export interface ExportRequest {
  readonly format: ExportFormat;
  readonly query: ExportQuery;
}

/** Every event type the log may hold (the code reads each of them). */
export const EVENT_TYPES: readonly string[] = Object.keys(EVENT_SCHEMA_VERSIONS).sort();

/** Kinds an `entity=<kind>:<id>` names: those with a history route. */
export const EXPORT_ENTITY_KINDS = ['organisation', 'project', 'feature', 'segment', 'tag', 'environment', 'identity', 'user'] as const;

/** Largest position or limit accepted: what a JavaScript number holds exactly. */
const POSITION = /^\d{1,15}$/;
/** An instant with a date, a time and a zone, as ISO 8601 writes it (`2026-12-06T02:05:00Z`, `…+01:00`, fractions allowed). */
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

function entityOf(text: string): ExportEntity | string {
  const colon = text.indexOf(':');
  const kind = colon < 0 ? text : text.slice(0, colon);
  const rest = colon < 0 ? '' : text.slice(colon + 1);
  if (!(EXPORT_ENTITY_KINDS as readonly string[]).includes(kind)) return `must be <kind>:<id> with kind one of ${EXPORT_ENTITY_KINDS.join(', ')}`;
  if (kind === 'identity') {
    const second = rest.indexOf(':');
    if (second <= 0 || second === rest.length - 1) return 'must be identity:<environment id or client key>:<identifier>';
    return { kind: 'identity', environment: rest.slice(0, second), identifier: rest.slice(second + 1) };
  }
  if (kind === 'environment') return rest.length > 0 ? { kind, environment: rest } : 'must be environment:<environment id or client key>';
  if (!/^[1-9]\d{0,14}$/.test(rest)) return `must be ${kind}:<id> with a positive integer id`;
  return { kind: kind as Exclude<ExportEntity['kind'], 'environment' | 'identity'>, id: Number(rest) };
}

/**
 * `?format=ndjson|csv&after=<position>&from=<time>&to=<time>&types=A,B&entity=<kind>:<id>&actor=<id>&limit=<n>&replayable=true`
 * of the export route, every bad parameter named.
 */
export function exportRequest(query: Record<string, unknown>): ExportRequest {
  const errors: FieldErrorBody[] = [];
  const bad = (field: string, message: string): void => void errors.push({ field, message });
  const format = queryText(query['format']) ?? 'ndjson';
  if (format !== 'ndjson' && format !== 'csv') bad('format', 'must be ndjson or csv');

  const number = (field: string, minimum: number): number | undefined => {
    const text = queryText(query[field]);
    if (text === undefined) return undefined;
    if (!POSITION.test(text) || Number(text) < minimum) {
      bad(field, minimum === 0 ? 'must be a log position (a non-negative integer)' : `must be an integer of at least ${minimum}`);
      return undefined;
    }
    return Number(text);
  };
  const instant = (field: string): number | undefined => {
    const text = queryText(query[field]);
    if (text === undefined) return undefined;
    const time = INSTANT.test(text) ? Date.parse(text) : Number.NaN;
    if (Number.isNaN(time)) bad(field, 'must be an ISO-8601 time with a zone, like 2026-12-06T02:05:00Z');
    return Number.isNaN(time) ? undefined : time;
  };
  const after = number('after', 0);
  const limit = number('limit', 1);
  const from = instant('from');
  const to = instant('to');
  if (from !== undefined && to !== undefined && from > to) bad('to', 'must not be before from');

  const typesText = queryText(query['types']);
  const types = typesText?.split(',').map((type) => type.trim());
  const unknown = types?.filter((type) => !EVENT_TYPES.includes(type)) ?? [];
  if (types && (types.length === 0 || unknown.length > 0)) bad('types', `must be event types separated by commas; unknown: ${unknown.map((type) => JSON.stringify(type)).join(', ')}`);

  const entityText = queryText(query['entity']);
  const entity = entityText === undefined ? undefined : entityOf(entityText);
  if (typeof entity === 'string') bad('entity', entity);

  const actor = queryText(query['actor']);
  if (actor !== undefined && (actor.length === 0 || actor.length > 200)) bad('actor', 'must be an actor id of 1 to 200 characters');

  const replayableText = queryText(query['replayable']);
  if (replayableText !== undefined && replayableText !== 'true' && replayableText !== 'false') bad('replayable', 'must be true or false');
  const replayable = replayableText === 'true';
  if (replayable && (typeof entity !== 'object' || entity.kind !== 'project')) bad('replayable', 'needs entity=project:<id>: it adds what replaying that project needs');

  if (errors.length > 0) throw new RequestValidationError(errors);
  return {
    format: format as ExportFormat,
    query: {
      ...(after !== undefined ? { after } : {}),
      ...(from !== undefined ? { from } : {}),
      ...(to !== undefined ? { to } : {}),
      ...(types ? { types } : {}),
      ...(typeof entity === 'object' ? { entity } : {}),
      ...(actor !== undefined ? { actor } : {}),
      ...(limit !== undefined ? { limit } : {}),
      ...(replayable ? { replayable } : {}),
    },
  };
}

/** The query of the export route as an `ExportRequest`. */
@Injectable()
export class ExportQueryPipe extends ParameterPipe<ExportRequest> {
  transform(value: unknown): ExportRequest {
    return exportRequest(typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {});
  }
}
