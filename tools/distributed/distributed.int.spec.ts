// `npm run distributed` as an operator runs it: the runner process starts the brokers and every
// service, a change made through the admin API is served through the balancer, an evaluation
// instance killed under traffic costs no request an error, a SIGTERM leaves no process behind, a
// restart on the same directory serves what was there, and a core service's exit stops the tier.
import { describeWithInfra } from '@flagline/infra-testing';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TopologyView } from './topology';

const ROOT = resolve(__dirname, '..', '..');

type ReadyLine = TopologyView & { readonly ms: number };
type LogLine = Record<string, unknown> & { msg?: string };

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

async function json(response: Response, what: string): Promise<Record<string, unknown>> {
  const text = await response.text();
  if (!response.ok) throw new Error(`${what}: ${response.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** Every process of the tier the runner reported. */
function pidsOf(ready: ReadyLine): (number | undefined)[] {
  return [...ready.services, ...ready.instances].map((service) => service.pid).concat(ready.redis.pid, ready.kafka.pid);
}

/** The runner as an operator starts it, its JSON lines collected. */
class RunnerProcess {
  readonly lines: LogLine[] = [];
  readonly exit: Promise<number | null>;
  private output = '';
  private readonly child;

  constructor(dir: string, instances: number) {
    const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'info' };
    // The shared test servers' addresses must not leak into the tier, which runs its own.
    delete env['REDIS_URL'];
    delete env['KAFKA_BROKERS'];
    this.child = spawn(process.execPath, ['-r', '@swc-node/register', 'tools/distributed/main.ts', '--port-base', '0', '--evaluation', String(instances), '--dir', dir, '--from-sources'], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exit = new Promise((done) => this.child.once('exit', (code) => done(code)));
    let pending = '';
    const collect = (chunk: Buffer): void => {
      this.output += chunk.toString('utf8');
      pending += chunk.toString('utf8');
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      for (const part of parts) {
        if (!part.startsWith('{')) continue;
        try {
          this.lines.push(JSON.parse(part) as LogLine);
        } catch {
          // a partial or foreign line
        }
      }
    };
    this.child.stdout.on('data', collect);
    this.child.stderr.on('data', collect);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  async waitForLine(predicate: (line: LogLine) => boolean, timeoutMs: number, what: string): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find(predicate);
      if (found) return found;
      if (!this.running || Date.now() > deadline) throw new Error(`no ${what} line from the runner; it printed:\n${this.output.slice(-4000)}`);
      await sleep(100);
    }
  }

  async ready(): Promise<ReadyLine> {
    return (await this.waitForLine((line) => line.msg === 'distributed tier ready', 240_000, '"distributed tier ready"')) as unknown as ReadyLine;
  }

  /** Exit code, or 'timeout' after a minute. */
  async exited(): Promise<number | null | 'timeout'> {
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([this.exit, new Promise<'timeout'>((done) => (timer = setTimeout(() => done('timeout'), 60_000)))]);
    clearTimeout(timer);
    return code;
  }

  /** After a failed test: the runner and whatever it started go. */
  async kill9(ready: ReadyLine | undefined): Promise<void> {
    if (this.running) {
      this.kill('SIGKILL');
      await this.exit;
    }
    for (const pid of ready ? pidsOf(ready) : []) if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGKILL');
  }
}

describeWithInfra(
  'npm run distributed',
  () => {
    let dir: string;
    let runner: RunnerProcess;
    let ready: ReadyLine;
    /** The environment the first test creates, which the later ones read. */
    let clientKey: string | undefined;
    let restarted: { runner: RunnerProcess; ready?: ReadyLine } | undefined;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'flagline-distributed-spec-'));
      runner = new RunnerProcess(dir, 2);
      ready = await runner.ready();
      process.stdout.write(`[distributed] tier ready in ${ready.ms} ms (2 evaluation instances, services from sources)\n`);
    }, 260_000);

    afterAll(async () => {
      await runner?.kill9(ready);
      await restarted?.runner.kill9(restarted.ready);
      if (dir) await rm(dir, { recursive: true, force: true });
    }, 60_000);

    it('serves a feature created through the admin API through the balancer, on REST and OFREP', async () => {
      const key = (await readFile(ready.adminKeyFile, 'utf8')).trim();
      const admin = async (path: string, body: unknown): Promise<Record<string, unknown>> =>
        json(
          await fetch(ready.adminApi + path, { method: 'POST', headers: { authorization: `Api-Key ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }),
          `POST ${path}`,
        );
      const organisation = await admin('/organisations', { name: 'Operators' });
      const project = await admin('/projects', { organisation: organisation['id'], name: 'Runner' });
      const environment = await admin(`/projects/${String(project['id'])}/environments`, { name: 'Production' });
      await admin(`/projects/${String(project['id'])}/features`, { name: 'checkout_button', defaultEnabled: true, initialValue: 'blue' });
      clientKey = String(environment['apiKey']);

      const deadline = Date.now() + 30_000;
      let served: unknown;
      while (Date.now() < deadline) {
        const response = await fetch(`${ready.sdkApi}/flags/`, { headers: { 'x-environment-key': clientKey } });
        const body: unknown = await response.json();
        if (response.status === 200 && Array.isArray(body) && body.length > 0) {
          served = body;
          break;
        }
        await sleep(100);
      }
      expect(served).toEqual([expect.objectContaining({ enabled: true, feature_state_value: 'blue', feature: expect.objectContaining({ name: 'checkout_button' }) })]);

      const ofrep = await fetch(`${ready.ofrep}/evaluate/flags/checkout_button`, {
        method: 'POST',
        headers: { 'x-api-key': clientKey, 'content-type': 'application/json' },
        body: JSON.stringify({ context: { targetingKey: 'ada' } }),
      });
      expect(await json(ofrep, 'OFREP')).toEqual(expect.objectContaining({ key: 'checkout_button', value: 'blue' }));
      // Every instance serves it (the balancer alternates): each answers on its own port too.
      for (const instance of ready.instances) {
        const response = await fetch(`${instance.url}/api/v1/flags/`, { headers: { 'x-environment-key': clientKey } });
        expect(response.status).toBe(200);
        expect(JSON.stringify(await response.json())).toContain('checkout_button');
      }
    }, 60_000);

    it('answers every request while an evaluation instance is killed, and the runner reports the exit and goes on', async () => {
      const key = clientKey;
      if (key === undefined) throw new Error('the previous test did not create the environment');
      const [victim, survivor] = ready.instances;
      if (!victim || !survivor) throw new Error('two instances expected');
      let ok = 0;
      const failures: string[] = [];
      let running = true;
      const loop = async (): Promise<void> => {
        while (running) {
          try {
            const response = await fetch(`${ready.sdkApi}/flags/`, { headers: { 'x-environment-key': key } });
            const text = await response.text();
            if (response.status === 200 && text.includes('checkout_button')) ok++;
            else failures.push(`${response.status} ${text.slice(0, 200)}`);
          } catch (error: unknown) {
            failures.push(error instanceof Error ? `${error.message} ${String(error.cause)}` : String(error));
          }
        }
      };
      const loops = Array.from({ length: 4 }, loop);
      await sleep(1000);
      const before = ok;
      if (victim.pid === undefined) throw new Error('no pid reported');
      process.kill(victim.pid, 'SIGKILL');
      await sleep(3000);
      running = false;
      await Promise.all(loops);
      process.stdout.write(`[distributed] ${ok} requests through the balancer (${ok - before} after the kill), ${failures.length} errors\n`);
      expect(failures).toEqual([]);
      expect(ok - before).toBeGreaterThan(50);
      const exitLine = await runner.waitForLine((line) => line['service'] === victim.name && typeof line.msg === 'string' && line.msg.includes('exited'), 5000, 'instance exit');
      expect(exitLine).toEqual(expect.objectContaining({ signal: 'SIGKILL', fatal: false }));
      expect(runner.running).toBe(true);
      expect(alive(survivor.pid)).toBe(true);
    }, 30_000);

    it('stops cleanly on SIGTERM: exit 0 and no process of the tier left', async () => {
      runner.kill('SIGTERM');
      expect(await runner.exited()).toBe(0);
      expect(pidsOf(ready).filter(alive)).toEqual([]);
    }, 70_000);

    it('restarted on the same directory serves what was there; a core service exiting stops the tier with exit 1', async () => {
      const key = clientKey;
      if (key === undefined) throw new Error('the first test did not create the environment');
      restarted = { runner: new RunnerProcess(dir, 1) };
      const again = await restarted.runner.ready();
      restarted.ready = again;
      // Redis (append-only), Kafka and the log kept their data: the first answer has the feature.
      const response = await fetch(`${again.sdkApi}/flags/`, { headers: { 'x-environment-key': key } });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual([expect.objectContaining({ feature_state_value: 'blue' })]);

      const projector = again.services.find((service) => service.name === 'projector');
      if (projector?.pid === undefined) throw new Error('no projector pid reported');
      process.kill(projector.pid, 'SIGKILL');
      expect(await restarted.runner.exited()).toBe(1);
      expect(restarted.runner.lines).toContainEqual(expect.objectContaining({ service: 'projector', signal: 'SIGKILL', fatal: true, level: 60 }));
      expect(pidsOf(again).filter(alive)).toEqual([]);
    }, 300_000);
  },
  { own: ['redis', 'kafka'] },
);
