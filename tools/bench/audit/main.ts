import { measureAsOf } from './as-of';
import { measureExplain } from './explain';
import { measureExport } from './export';
import { renderRows, type AuditRow } from './rows';

/**
 * `npm run bench:audit`: the audit figures, one table on stdout. Each part is a file of its own
 * returning rows; add a part by adding its rows here.
 *
 *   AUDIT_BENCH_EVENTS (default 1,000,000), AUDIT_BENCH_READS (default 1,000 per kind of read),
 *   AUDIT_BENCH_DIR (keep the written log there, and reuse it in a later run)
 */
async function main(): Promise<void> {
  const events = Number(process.env['AUDIT_BENCH_EVENTS'] ?? 1_000_000);
  const rows: AuditRow[] = [...(await measureAsOf({ events, projectEvents: 5_000, reads: Number(process.env['AUDIT_BENCH_READS'] ?? 1_000) }))];
  rows.push(...(await measureExport({ events })));
  rows.push(...(await measureExplain({ projectEvents: 20_000, reads: Number(process.env['AUDIT_BENCH_READS'] ?? 1_000) })));
  process.stdout.write(`${renderRows(rows)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
