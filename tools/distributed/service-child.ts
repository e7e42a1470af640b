// One service of the distributed tier as its own Node process, its output appended to a log file.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { terminate } from '@flagline/infra-testing';
import { EVALUATION_SERVICE_NODE_OPTIONS } from '../../apps/evaluation-service/src/node-options';

export type ServiceApp = 'command-service' | 'relay' | 'projector' | 'evaluation-service';

/** How services are started: the compiled `dist/` (npm run build) or the TypeScript sources through @swc-node/register. */
export type ServiceSource = 'dist' | 'sources';

export interface ServiceExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The message of the last JSON line the service logged (why it stopped, usually). */
  readonly lastMessage: string;
}

async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, await newestMtime(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) newest = Math.max(newest, (await stat(path)).mtimeMs);
  }
  return newest;
}

/**
 * `dist/` when it holds every service and is newer than every source file (a compiled process
 * starts about a third faster, which counts with N + 3 of them on a few cores), else the sources.
 * Returns why, for the log.
 */
export async function chooseServiceSource(root: string, apps: readonly ServiceApp[]): Promise<{ source: ServiceSource; reason: string }> {
  const mains = apps.map((app) => join(root, 'dist', 'apps', app, 'src', 'main.js'));
  const missing = mains.find((main) => !existsSync(main));
  if (missing) return { source: 'sources', reason: `${missing} is missing (npm run build compiles it)` };
  const built = Math.min(...mains.map((main) => statSync(main).mtimeMs));
  const edited = Math.max(await newestMtime(join(root, 'apps')), await newestMtime(join(root, 'libs')));
  if (edited > built) return { source: 'sources', reason: 'a source file is newer than dist/ (npm run build compiles it)' };
  return { source: 'dist', reason: 'dist/ is newer than every source file' };
}

export interface ServiceChildOptions {
  readonly root: string;
  readonly app: ServiceApp;
  /** e.g. `evaluation-service-2`; names the log file. */
  readonly label: string;
  readonly source: ServiceSource;
  readonly env: NodeJS.ProcessEnv;
  readonly logFile: string;
  readonly onExit: (exit: ServiceExit) => void;
}

export class ServiceChild {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private expectingExit = false;

  constructor(readonly options: ServiceChildOptions) {}

  get label(): string {
    return this.options.label;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  start(): void {
    const { root, app, source } = this.options;
    const nodeOptions = app === 'evaluation-service' ? EVALUATION_SERVICE_NODE_OPTIONS : [];
    const args = [...nodeOptions, ...(source === 'dist' ? [join(root, 'dist', 'apps', app, 'src', 'main.js')] : ['-r', '@swc-node/register', join(root, 'apps', app, 'src', 'main.ts')])];
    const fd = openSync(this.options.logFile, 'a');
    try {
      this.child = spawn(process.execPath, args, { cwd: root, env: this.options.env, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    const child = this.child;
    this.exited = new Promise((done) => {
      const exited = (code: number | null, signal: NodeJS.Signals | null, lastMessage: string): void => {
        if (this.child !== child) return;
        this.child = undefined;
        if (!this.expectingExit) this.options.onExit({ code, signal, lastMessage });
        done();
      };
      child.once('exit', (code, signal) => exited(code, signal, lastLoggedMessage(this.options.logFile)));
      child.once('error', (error) => exited(null, null, `could not run node: ${error.message}`));
    });
  }

  /** SIGKILL, without waiting. */
  kill(): void {
    this.expectingExit = true;
    this.child?.kill('SIGKILL');
  }

  /** SIGTERM (the services' graceful stop), SIGKILL after the timeout. */
  async stop(timeoutMs = 10_000): Promise<void> {
    const child = this.child;
    if (!child) return this.exited;
    this.expectingExit = true;
    await terminate(child, this.exited, timeoutMs);
  }
}

/** The message (and error message, or failure reason) of the last JSON line in a log file. */
export function lastLoggedMessage(logFile: string): string {
  let fd: number | undefined;
  try {
    fd = openSync(logFile, 'r');
    const size = fstatSync(fd).size;
    const start = Math.max(0, size - 64 * 1024);
    const buffer = Buffer.alloc(size - start);
    readSync(fd, buffer, 0, buffer.length, start);
    const lines = buffer.toString('utf8').trimEnd().split('\n').reverse();
    for (const line of lines) {
      try {
        const entry = JSON.parse(line) as { msg?: unknown };
        if (typeof entry.msg === 'string') return entry.msg;
      } catch {
        // not a JSON line
      }
    }
    // No JSON line: the process died before its logger ran (a syntax error, a missing module).
    return lines.slice(0, 5).reverse().join('\n').trim() || '(nothing logged)';
  } catch {
    return '(no log)';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
