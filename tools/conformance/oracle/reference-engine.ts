/**
 * Flagsmith's reference engine as one long-lived Python process (`reference_engine.py`) speaking
 * NDJSON: a context per line in, an answer per line out, in order. Many evaluations may be in
 * flight at once; answers are matched to requests by position.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** What the reference engine answered for one context. */
export type ReferenceAnswer = { readonly result: unknown } | { readonly error: string };

interface Pending {
  resolve(answer: ReferenceAnswer): void;
  reject(error: Error): void;
}

const SCRIPT = join(__dirname, 'reference_engine.py');
const STDERR_KEPT = 4000;
/** Longest wait for the next answer while requests are pending; a stuck process fails the run. */
const ANSWER_TIMEOUT_MS = 60_000;

function parseAnswer(line: string): ReferenceAnswer {
  const parsed: unknown = JSON.parse(line);
  if (typeof parsed === 'object' && parsed !== null) {
    if ('result' in parsed) return { result: parsed.result };
    if ('error' in parsed && typeof parsed.error === 'string') return { error: parsed.error };
  }
  throw new Error(`unexpected answer from the reference engine: ${line.slice(0, 200)}`);
}

export class ReferenceEngine {
  private readonly pending: Pending[] = [];
  private stderr = '';
  private exited: Error | undefined;
  private watchdog: NodeJS.Timeout | undefined;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    /** The engine version the process reported. */
    readonly version: string,
    /** The Python version running it (its `re` module decides REGEX conditions). */
    readonly pythonVersion: string,
  ) {}

  /** Starts the process with `python` and waits for its `ready` line. */
  static start(python: string): Promise<ReferenceEngine> {
    const child = spawn(python, ['-u', SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
    return new Promise((resolve, reject) => {
      let engine: ReferenceEngine | undefined;
      let stderr = '';
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => {
        if (engine) engine.stderr = (engine.stderr + chunk).slice(-STDERR_KEPT);
        else stderr = (stderr + chunk).slice(-STDERR_KEPT);
      });
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        const error = new Error(`reference engine exited (${signal ?? `code ${code}`}): ${(engine?.stderr ?? stderr).trim()}`);
        if (!engine) reject(error);
        else engine.fail(error);
      });
      const lines = createInterface({ input: child.stdout });
      lines.on('line', (line) => {
        if (!engine) {
          try {
            const ready: unknown = JSON.parse(line);
            if (typeof ready !== 'object' || ready === null || !('ready' in ready) || !('python' in ready)) {
              throw new Error(`expected a ready line, got ${line.slice(0, 200)}`);
            }
            engine = new ReferenceEngine(child, String(ready.ready), String(ready.python));
            resolve(engine);
          } catch (error) {
            child.kill();
            reject(error instanceof Error ? error : new Error(String(error)));
          }
          return;
        }
        engine.answer(line);
      });
    });
  }

  /** Evaluates one context, given as Python-readable JSON text on a single line. */
  evaluate(contextJson: string): Promise<ReferenceAnswer> {
    if (this.exited) return Promise.reject(this.exited);
    if (contextJson.includes('\n')) return Promise.reject(new Error('a context must be written on one line'));
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.child.stdin.write(`${contextJson}\n`);
      this.armWatchdog();
    });
  }

  /** While answers are awaited, the next one must come within {@link ANSWER_TIMEOUT_MS}. */
  private armWatchdog(): void {
    if (this.watchdog !== undefined || this.pending.length === 0) return;
    this.watchdog = setTimeout(() => {
      this.watchdog = undefined;
      this.fail(new Error(`the reference engine gave no answer for ${ANSWER_TIMEOUT_MS / 1000} s (${this.pending.length} pending)`));
      this.child.kill();
    }, ANSWER_TIMEOUT_MS);
  }

  private disarmWatchdog(): void {
    clearTimeout(this.watchdog);
    this.watchdog = undefined;
  }

  /** Closes the process's input and waits for it to exit. */
  close(): Promise<void> {
    if (this.exited || this.child.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.stdin.end();
    });
  }

  private answer(line: string): void {
    this.disarmWatchdog();
    const next = this.pending.shift();
    this.armWatchdog();
    if (!next) {
      this.fail(new Error(`unrequested answer from the reference engine: ${line.slice(0, 200)}`));
      return;
    }
    try {
      next.resolve(parseAnswer(line));
    } catch (error) {
      next.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private fail(error: Error): void {
    this.disarmWatchdog();
    this.exited = error;
    for (const pending of this.pending.splice(0)) pending.reject(error);
  }
}
