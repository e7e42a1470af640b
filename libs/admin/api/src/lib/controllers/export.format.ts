import type { ExportedEvent } from '@flagline/admin-application';
import { stringify } from 'csv-stringify/sync';
import type { ExportFormat } from './export.query';

/** The columns of a CSV export, in order (its header row). */
export const CSV_COLUMNS = [
  'position',
  'recordedAt',
  'type',
  'streamName',
  'streamRevision',
  'id',
  'actorKind',
  'actorId',
  'actorName',
  'correlationId',
  'organisationId',
  'projectId',
  'data',
] as const;

/**
 * One NDJSON line: the stored event's fields (`position`, `id`, `type`, `streamName`,
 * `streamRevision`, `data`, `metadata`, `recordedAt`, and `redacted` when a field was left out),
 * so that `canonicalEventBytes(line)` is the input of its leaf in the log's Merkle tree.
 */
export const ndjsonLine = (event: ExportedEvent): string => `${JSON.stringify(event)}\n`;

const csvRow = (event: ExportedEvent): (string | number)[] => {
  const { actor, correlationId, organisationId, projectId } = event.metadata;
  return [
    event.position,
    event.recordedAt,
    event.type,
    event.streamName,
    event.streamRevision,
    event.id,
    actor.kind,
    actor.id,
    actor.name ?? '',
    correlationId,
    organisationId ?? '',
    projectId ?? '',
    JSON.stringify(event.data),
  ];
};

/**
 * CSV rows for spreadsheets (RFC 4180 quoting by csv-stringify); a cell starting with `=`, `+`,
 * `-`, `@`, tab or carriage return is prefixed with `'` so that no spreadsheet runs it as a formula.
 */
export const csvRows = (events: readonly ExportedEvent[], header: boolean): string =>
  stringify(events.map(csvRow), { header, columns: [...CSV_COLUMNS], escape_formulas: true });

/** The text of a batch of exported events in a format (the CSV header with the first batch). */
export function formatBatch(format: ExportFormat, events: readonly ExportedEvent[], first: boolean): string {
  if (format === 'csv') return csvRows(events, first);
  let text = '';
  for (const event of events) text += ndjsonLine(event);
  return text;
}

export const CONTENT_TYPES: Readonly<Record<ExportFormat, string>> = {
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
};
