import type Database from 'better-sqlite3';

export type SqlValue = string | number | null;

/**
 * An INSERT of `rows` rows a statement, written in the order they are added; `flush` writes the
 * rest in statements of halving sizes (32, 16, ... rows), each prepared once, at its first use.
 * `conflict` follows the rows (an upsert's `ON CONFLICT ...`). The caller runs it in a transaction.
 */
export class ChunkedInsert {
  private readonly values: SqlValue[] = [];
  /** Statements by rows per statement. */
  private readonly statements = new Map<number, Database.Statement<[SqlValue[]]>>();
  private readonly row: string;

  constructor(
    private readonly db: Database.Database,
    private readonly insert: string,
    private readonly columns: number,
    private readonly rows: number,
    private readonly conflict = '',
  ) {
    this.row = `(${Array<string>(columns).fill('?').join(', ')})`;
  }

  private statement(rows: number): Database.Statement<[SqlValue[]]> {
    let statement = this.statements.get(rows);
    if (statement === undefined) {
      statement = this.db.prepare<[SqlValue[]]>(`${this.insert} VALUES ${Array<string>(rows).fill(this.row).join(', ')} ${this.conflict}`);
      this.statements.set(rows, statement);
    }
    return statement;
  }

  add(...row: SqlValue[]): void {
    for (const value of row) this.values.push(value);
    if (this.values.length < this.rows * this.columns) return;
    // Taken out before running: rows of a statement that failed are never sent again.
    this.statement(this.rows).run(this.values.splice(0));
  }

  flush(): void {
    const values = this.values.splice(0);
    let at = 0;
    for (let rows = this.rows; at < values.length; rows = Math.max(1, rows >> 1)) {
      const size = rows * this.columns;
      while (values.length - at >= size) {
        this.statement(rows).run(at === 0 && size === values.length ? values : values.slice(at, at + size));
        at += size;
      }
    }
  }

  /** Drops rows still waiting (those of a batch whose transaction failed and was rolled back). */
  discard(): void {
    this.values.length = 0;
  }
}
