/**
 * Runs a command line tool: a usage text for `--help` (exit 0) or a bad argument (exit 2, with
 * the problem), otherwise `run`, whose failure is printed as `explain` puts it (exit 1).
 */
export async function runCommand<T>(usage: string, parsed: T | string, run: (options: T) => Promise<string>, explain: (error: unknown, options: T) => string): Promise<void> {
  if (typeof parsed === 'string') {
    console.error(parsed === '' ? usage : `${parsed}\n\n${usage}`);
    process.exitCode = parsed === '' ? 0 : 2;
    return;
  }
  try {
    console.error(await run(parsed));
  } catch (error) {
    console.error(explain(error, parsed));
    process.exitCode = 1;
  }
}

/** An error's message (with its cause's, as fetch reports a dropped connection). */
export const messageOf = (error: unknown): string =>
  error instanceof Error ? (error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message) : String(error);
