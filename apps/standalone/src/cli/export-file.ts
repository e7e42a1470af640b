import { open } from 'node:fs/promises';

/** Bytes read per step when scanning an export file. */
const SCAN_BYTES = 1 << 20;

export type ExportFileFormat = 'ndjson' | 'csv';

/** Where an export file can be continued: the end of its last complete record, and that record's log position. */
export interface ResumePoint {
  /** Byte length of the complete records (anything after is a cut-off record, dropped on resume). */
  readonly bytes: number;
  /** Log position of the last complete record; null when the file holds none. */
  readonly position: number | null;
  /** Complete records (CSV: not counting the header row). */
  readonly records: number;
}

/** The log position a record starts with: `{"position":n,` in NDJSON, `n,` in CSV (null for the header). */
export function positionOf(format: ExportFileFormat, record: string): number | null {
  const match = (format === 'ndjson' ? /^\{"position":(\d+)[,}]/ : /^(\d+),/).exec(record);
  return match ? Number(match[1]) : null;
}

/**
 * Scans an export file for its last complete record. An NDJSON line ends at a newline (JSON text
 * escapes newlines inside strings); a CSV record at a newline outside double quotes (RFC 4180
 * quoting, `""` inside a quoted field counting twice, so parity is enough). Reads the file once,
 * a megabyte at a time, holding only the record in progress.
 */
export async function resumePoint(path: string, format: ExportFileFormat): Promise<ResumePoint> {
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(SCAN_BYTES);
    let offset = 0;
    let quoted = false;
    let pending: Buffer[] = [];
    let end = 0;
    let position: number | null = null;
    let records = 0;
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, SCAN_BYTES, offset);
      if (bytesRead === 0) break;
      const chunk = buffer.subarray(0, bytesRead);
      let from = 0;
      for (let index = 0; index < chunk.length; index++) {
        const byte = chunk[index] as number;
        if (format === 'csv' && byte === 0x22) quoted = !quoted;
        else if (byte === 0x0a && !quoted) {
          const text = Buffer.concat([...pending, chunk.subarray(from, index)]).toString('utf8');
          pending = [];
          from = index + 1;
          end = offset + index + 1;
          const found = positionOf(format, text);
          if (found !== null) {
            records++;
            position = found;
          } else if (format === 'ndjson' || end !== text.length + 1) {
            // Only a CSV file's first row (its header) has no position.
            throw new Error(`${path}: the record ending at byte ${end} does not start with a log position; is the file an export in ${format}?`);
          }
        }
      }
      // Only the record in progress is kept between reads.
      pending.push(Buffer.from(chunk.subarray(from)));
      offset += bytesRead;
    }
    return { bytes: end, position, records };
  } finally {
    await file.close();
  }
}
