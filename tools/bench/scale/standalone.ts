import { join } from 'node:path';
import { AdminClient } from '../admin-client';
import { freePort } from '../support';
import { startOptionsOf, type Build } from './builds';
import { NodeProcess, poll } from './processes';

/** The standalone app of a build, on a free loopback port, over one data directory. */
export class StandaloneServer {
  private constructor(
    readonly process: NodeProcess,
    readonly url: string,
    readonly admin: AdminClient,
  ) {}

  static async start(build: Build, dataDir: string, adminKey: string, logFile: string): Promise<StandaloneServer> {
    const port = await freePort();
    const server = new NodeProcess(join(build.root, 'dist/apps/standalone/src/main.js'), {
      cwd: build.root,
      nodeOptions: startOptionsOf(build.root),
      env: { PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, ADMIN_API_KEY: adminKey },
      logFile,
    });
    const url = `http://127.0.0.1:${port}`;
    return new StandaloneServer(server, url, new AdminClient(url, adminKey));
  }

  /** The parsed /health answer, or undefined while it does not answer 2xx. */
  async health(): Promise<Record<string, unknown> | undefined> {
    const response = await fetch(`${this.url}/health`);
    return response.ok ? ((await response.json()) as Record<string, unknown>) : undefined;
  }

  /** Resolves once /health answers (throws if the process exits first). */
  async waitHealthy(timeoutMs: number): Promise<void> {
    await Promise.race([poll(() => this.health(), 'standalone /health', timeoutMs), this.process.failOnExit()]);
  }

  /** The global log position /health reports, the number of events in the log. */
  async position(): Promise<number | undefined> {
    const health = await this.health();
    const position = health?.['position'];
    return typeof position === 'number' ? position : undefined;
  }

  stop(): Promise<void> {
    return this.process.stop();
  }
}
