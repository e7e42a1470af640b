import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { terminate } from '@flagline/infra-testing';
import { sleep } from './wait';

/** The repository root (this file is apps/distributed-e2e/src/testing/service-process.ts). */
export const REPOSITORY_ROOT = resolve(__dirname, '../../../..');

export type ServiceApp = 'command-service' | 'relay' | 'projector' | 'evaluation-service';

/**
 * Only these variables of the test process reach a service: the jest process carries the shared
 * servers' REDIS_URL and KAFKA_BROKERS, which must never leak into a service meant for a private one.
 */
const INHERITED_ENV = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ', 'SWC_NODE_PROJECT'];

export interface ServiceProcessOptions {
  readonly app: ServiceApp;
  /** Names the log file and the failure messages, e.g. `evaluation-service-2`. */
  readonly label: string;
  readonly env: Readonly<Record<string, string>>;
  readonly logDir: string;
}

/**
 * One service run as its own Node process from its TypeScript entry point (compiled on the fly by
 * @swc-node/register), the way a deployment runs it. stdout and stderr are appended to one log
 * file per service across restarts, with a marker line per start, so a failure can be traced.
 */
export class ServiceProcess {
  readonly label: string;
  readonly logFile: string;
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private logOffset = 0;
  private currentUrl: string | null = null;
  /** Set just before a kill or stop we asked for, so the exit is not reported as unexpected. */
  private expectingExit = false;
  starts = 0;
  /** Exits nobody asked for: code or signal, and when. */
  readonly unexpectedExits: string[] = [];

  constructor(private readonly options: ServiceProcessOptions) {
    this.label = options.label;
    this.logFile = join(options.logDir, `${options.label}.log`);
  }

  get running(): boolean {
    return this.child !== null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The service's base URL once it logged the port it listens on. */
  get url(): string {
    if (this.currentUrl === null) throw new Error(`${this.label} has not reported its port yet (log: ${this.logFile})`);
    return this.currentUrl;
  }

  /** Spawns the process without waiting for it: see waitReady. */
  start(): void {
    if (this.child) throw new Error(`${this.label} is already running (pid ${this.child.pid ?? '?'})`);
    this.starts++;
    this.currentUrl = null;
    this.expectingExit = false;
    appendFileSync(this.logFile, `\n===== start #${this.starts} of ${this.label} at ${new Date().toISOString()} =====\n`);
    const fd = openSync(this.logFile, 'a');
    this.logOffset = fstatSync(fd).size;
    let child: ChildProcess;
    try {
      const env: Record<string, string> = {};
      for (const name of INHERITED_ENV) {
        const value = process.env[name];
        if (value !== undefined) env[name] = value;
      }
      child = spawn(process.execPath, ['-r', '@swc-node/register', `apps/${this.options.app}/src/main.ts`], {
        cwd: REPOSITORY_ROOT,
        env: { ...env, LOG_LEVEL: 'info', HOST: '127.0.0.1', PORT: '0', ...this.options.env },
        stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    this.child = child;
    this.exited = new Promise<void>((done) => {
      child.once('exit', (code, signal) => {
        if (this.child === child) this.child = null;
        if (!this.expectingExit) this.unexpectedExits.push(`${new Date().toISOString()} exit ${code ?? signal ?? '?'}: ${this.lastMessage()}`);
        done();
      });
    });
  }

  /**
   * Resolves once the process logged its port and `path` answers 200 (`/health/ready`, or
   * `/health` for the command service). Fails at once if the process exits meanwhile.
   */
  async waitReady(timeoutMs: number, path = '/health/ready'): Promise<void> {
    const child = this.child;
    if (!child) throw new Error(`${this.label} is not running:\n${this.logTail()}`);
    const deadline = Date.now() + timeoutMs;
    let last = 'no port logged yet';
    while (Date.now() < deadline) {
      if (this.child !== child) throw new Error(`${this.label} exited before it was ready (${this.unexpectedExits.at(-1) ?? 'killed'}):\n${this.logTail()}`);
      this.currentUrl ??= this.portFromLog();
      if (this.currentUrl !== null) {
        try {
          const response = await fetch(this.currentUrl + path, { signal: AbortSignal.timeout(2000) });
          last = `${path} answered ${response.status}`;
          await response.arrayBuffer();
          if (response.status === 200) return;
        } catch (error: unknown) {
          last = `${path} failed: ${error instanceof Error ? error.message : String(error)}`;
        }
      }
      await sleep(100);
    }
    throw new Error(`${this.label} not ready within ${timeoutMs} ms (${last}):\n${this.logTail()}`);
  }

  /** Whether this start has logged its port, i.e. finished starting (the projector only listens once it joined its group). */
  listening(): boolean {
    if (!this.child) return false;
    this.currentUrl ??= this.portFromLog();
    return this.currentUrl !== null;
  }

  /** The port of this start's "listening"/"running" line (services log JSON lines with a `port`). */
  private portFromLog(): string | null {
    for (const line of this.readLog(this.logOffset).split('\n')) {
      if (!line.includes('"port"')) continue;
      try {
        const entry = JSON.parse(line) as { port?: unknown; msg?: unknown };
        if (typeof entry.port === 'number' && entry.port > 0 && typeof entry.msg === 'string' && /listening|running/.test(entry.msg)) {
          return `http://127.0.0.1:${entry.port}`;
        }
      } catch {
        // not a log line of the service (a stack trace, say)
      }
    }
    return null;
  }

  /** SIGKILL: a crash, no shutdown hook runs. Resolves once the process is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.expectingExit = true;
    child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM (the graceful shutdown of runService), SIGKILL after the timeout. */
  async stop(timeoutMs = 10_000): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.expectingExit = true;
    await terminate(child, this.exited, timeoutMs);
  }

  /** The message (and error message) of the last JSON log line: why a process exited. */
  private lastMessage(): string {
    const lines = this.readLog(this.logOffset, 64 * 1024).trimEnd().split('\n');
    for (const line of lines.reverse()) {
      try {
        const entry = JSON.parse(line) as { msg?: unknown; err?: { message?: unknown } };
        return [entry.msg, entry.err?.message].filter((part) => typeof part === 'string').join(': ');
      } catch {
        // not a JSON log line
      }
    }
    return '(nothing logged)';
  }

  /** How many log lines (of every start) contain `text`: how often the service reported something. */
  countInLog(text: string): number {
    return this.readLog(0, Number.MAX_SAFE_INTEGER)
      .split('\n')
      .filter((line) => line.includes(text)).length;
  }

  /** The last lines of the log, for failure messages. */
  logTail(lines = 40): string {
    const text = this.readLog(0, 64 * 1024);
    return `--- last lines of ${this.logFile} ---\n${text.split('\n').slice(-lines).join('\n')}`;
  }

  private readLog(offset: number, maxBytes = 1024 * 1024): string {
    let fd: number | undefined;
    try {
      fd = openSync(this.logFile, 'r');
      const size = fstatSync(fd).size;
      const start = Math.max(offset, size - maxBytes);
      const buffer = Buffer.alloc(Math.max(0, size - start));
      readSync(fd, buffer, 0, buffer.length, start);
      return buffer.toString('utf8');
    } catch {
      return '';
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
}
