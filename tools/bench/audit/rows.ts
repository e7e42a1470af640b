/** One row of the audit benchmark's table. */
export interface AuditRow {
  readonly name: string;
  readonly value: string;
  readonly target?: string;
  readonly met?: boolean;
}

/** The rows as a Markdown table. */
export function renderRows(rows: readonly AuditRow[]): string {
  const lines = ['| Figure | Measured | Target | Met |', '|---|---|---|---|'];
  for (const row of rows) lines.push(`| ${row.name} | ${row.value} | ${row.target ?? ''} | ${row.met === undefined ? '' : row.met ? 'yes' : 'NO'} |`);
  return lines.join('\n');
}
