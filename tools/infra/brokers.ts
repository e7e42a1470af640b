// Real Redis and Apache Kafka (KRaft, single node) servers for integration tests, run as child
// processes on loopback ports: no Docker. Each server keeps its data directory and ports across
// stop()/start(), so a test can take it down while traffic flows and bring it back.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, closeSync, constants, existsSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';

export const REPO_ROOT = resolve(__dirname, '..', '..');
export const INSTALL_COMMAND = 'tools/infra/install.sh';

/** A free TCP port on 127.0.0.1, found by letting the kernel pick one. */
export function findFreePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolvePort(port) : reject(new Error('no port assigned'))));
    });
  });
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** Where `tools/infra/install.sh` puts the Kafka jars. */
export function kafkaLibsDir(): string {
  return process.env['FLAGLINE_KAFKA_LIBS'] ?? join(REPO_ROOT, '.infra', 'kafka', 'libs');
}

export function locateRedisServer(): string | undefined {
  const configured = process.env['FLAGLINE_REDIS_SERVER'];
  return configured ?? findOnPath('redis-server');
}

export function locateJava(): string | undefined {
  const configured = process.env['FLAGLINE_JAVA'];
  if (configured) return configured;
  const javaHome = process.env['JAVA_HOME'];
  if (javaHome && existsSync(join(javaHome, 'bin', 'java'))) return join(javaHome, 'bin', 'java');
  return findOnPath('java');
}

function hasKafkaJars(dir: string): boolean {
  try {
    return readdirSync(dir).some((f) => /^kafka_2\.13-.*\.jar$/.test(f));
  } catch {
    return false;
  }
}

/** Why a Redis server cannot be started here, or undefined when it can. */
export function redisUnavailableReason(): string | undefined {
  return locateRedisServer() ? undefined : `redis-server is not on PATH (run ${INSTALL_COMMAND})`;
}

/** Why a Kafka broker cannot be started here, or undefined when it can. */
export function kafkaUnavailableReason(libsDir = kafkaLibsDir()): string | undefined {
  if (!locateJava()) return `java is not on PATH (Kafka needs Java 17; install a JDK/JRE, then run ${INSTALL_COMMAND})`;
  if (!hasKafkaJars(libsDir)) return `no Kafka jars in ${libsDir} (run ${INSTALL_COMMAND})`;
  return undefined;
}


const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// Children still alive when the test process exits are killed, so no JVM outlives a test run.
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of liveChildren) c.kill('SIGKILL');
    });
  }
}

class ServerStartError extends Error {
  constructor(
    message: string,
    readonly portInUse: boolean,
  ) {
    super(message);
  }
}

const PORT_IN_USE = /Address already in use|BindException/;

/** Spawning, log capture, stop and kill shared by both servers. */
/** SIGTERM, escalating to SIGKILL when the process has not exited after the timeout; resolves with `exited`. */
export async function terminate(child: ChildProcess, exited: Promise<void>, timeoutMs: number): Promise<void> {
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

abstract class ManagedProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private spawnError: string | undefined;

  protected constructor(
    readonly dir: string,
    readonly logFile: string,
    private readonly ownsDir: boolean,
  ) {}

  get running(): boolean {
    return this.child !== undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  protected abstract readonly name: string;

  /** Spawns the server with stdout and stderr appended to the log file; returns where this run's output starts. */
  protected spawnLogged(command: string, args: string[]): { child: ChildProcess; logOffset: number } {
    if (this.child) throw new Error(`${this.name} is already running (pid ${this.child.pid ?? '?'})`);
    this.spawnError = undefined;
    const fd = openSync(this.logFile, 'a');
    const logOffset = fstatSync(fd).size;
    let child: ChildProcess;
    try {
      child = spawn(command, args, { cwd: this.dir, stdio: ['ignore', fd, fd], detached: false });
    } finally {
      closeSync(fd);
    }
    track(child);
    this.child = child;
    this.exited = new Promise((done) => {
      child.once('exit', () => {
        if (this.child === child) this.child = undefined;
        done();
      });
      child.once('error', (error: Error) => {
        this.spawnError = error.message;
        if (this.child === child) this.child = undefined;
        done();
      });
    });
    return { child, logOffset };
  }

  protected startError(what: string, logOffset: number): ServerStartError {
    const log = readLog(this.logFile, logOffset).text;
    const lines = log.split('\n');
    // A failing JVM logs its cause first and then pages of shutdown lines: show both.
    const errors = lines.filter((line) => /\b(ERROR|FATAL)\b|Exception\b|Address already in use/.test(line)).slice(0, 10);
    const tail = lines.slice(-30).join('\n');
    if (this.spawnError) errors.unshift(`could not run it: ${this.spawnError}`);
    const errorPart = errors.length > 0 ? `\nFirst errors logged:\n${errors.join('\n')}` : '';
    return new ServerStartError(`${this.name} ${what}.${errorPart}\nLast lines of ${this.logFile}:\n${tail}`, PORT_IN_USE.test(log));
  }

  /** Resolves once the previous process (if any) has exited, so ports and locks are free. */
  protected waitForExit(): Promise<void> {
    return this.exited;
  }

  protected hasExited(child: ChildProcess): boolean {
    return child.exitCode !== null || child.signalCode !== null || this.child !== child;
  }

  /** Graceful stop (SIGTERM), escalating to SIGKILL after the timeout. */
  async stop(timeoutMs = this.defaultStopTimeoutMs()): Promise<void> {
    const child = this.child;
    if (!child) return this.exited;
    await terminate(child, this.exited, timeoutMs);
  }

  protected defaultStopTimeoutMs(): number {
    return 10_000;
  }

  /** Immediate crash (SIGKILL): no flush, no clean shutdown. start() again recovers from the data dir. */
  kill(): void {
    this.child?.kill('SIGKILL');
  }

  abstract start(): Promise<void>;

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Kills the server and removes its directory if it created it. */
  async dispose(): Promise<void> {
    this.kill();
    await this.exited;
    if (this.ownsDir) await rm(this.dir, { recursive: true, force: true });
  }
}

/** The log's text from `offset` (at most its last 256 KiB) and the log's size. */
function readLog(path: string, offset: number): { text: string; size: number } {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    const start = Math.max(offset, size - 256 * 1024);
    const buffer = Buffer.alloc(Math.max(0, size - start));
    readSync(fd, buffer, 0, buffer.length, start);
    return { text: buffer.toString('utf8'), size };
  } catch {
    return { text: '', size: offset };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

async function makeDir(dir: string | undefined, prefix: string): Promise<{ dir: string; owned: boolean }> {
  if (dir) {
    mkdirSync(dir, { recursive: true });
    return { dir, owned: false };
  }
  return { dir: await mkdtemp(join(tmpdir(), prefix)), owned: true };
}

async function withPortRetry<T>(explicitPorts: boolean, attempt: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (error: unknown) {
      // A port found free can be taken by another process before the server binds it.
      if (explicitPorts || tries >= 3 || !(error instanceof ServerStartError) || !error.portInUse) throw error;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Redis

export interface RedisOptions {
  /** Default: a free loopback port, chosen once and kept across restarts. */
  port?: number;
  /** Working directory (log, and the append-only file when `appendOnly`). Default: a fresh temp dir. */
  dir?: string;
  /** Keep data across stop()/start() (and kill()/start()) with an append-only file. Default: no persistence. */
  appendOnly?: boolean;
  /**
   * When the append-only file is fsynced. `always`: before each answer, so nothing acknowledged
   * is ever lost, at an fsync per write (the choice of tests about durability). `everysec` (the
   * default): Redis still hands each write to the kernel before it answers, so a killed or
   * restarted redis-server keeps it, unless a slow disk made it postpone the write (by 2 s at
   * most); only the machine going down loses the last second. For the many tests that restart
   * nothing, an fsync per write would only slow the run on a shared disk.
   */
  appendFsync?: 'always' | 'everysec';
  /** Default: `FLAGLINE_REDIS_SERVER`, else `redis-server` on PATH. */
  redisServer?: string;
  startTimeoutMs?: number;
}

export class RedisServer extends ManagedProcess {
  protected readonly name = 'redis-server';

  private constructor(
    readonly port: number,
    dir: string,
    ownsDir: boolean,
    private readonly binary: string,
    private readonly options: RedisOptions,
  ) {
    super(dir, join(dir, 'redis.log'), ownsDir);
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts a new Redis server and waits until it answers PING. */
  static async start(options: RedisOptions = {}): Promise<RedisServer> {
    const binary = options.redisServer ?? locateRedisServer();
    if (!binary) throw new Error(redisUnavailableReason());
    const { dir, owned } = await makeDir(options.dir, 'flagline-redis-');
    try {
      return await withPortRetry(options.port !== undefined, async () => {
        const server = new RedisServer(options.port ?? (await findFreePort()), dir, owned, binary, options);
        await server.start();
        return server;
      });
    } catch (error: unknown) {
      if (owned) await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** (Re)starts the server on the same port and directory. */
  async start(): Promise<void> {
    await this.waitForExit();
    const args = [
      '--port', String(this.port),
      '--bind', '127.0.0.1',
      '--dir', this.dir,
      '--save', '',
      '--appendonly', this.options.appendOnly ? 'yes' : 'no',
      '--appendfsync', this.options.appendFsync ?? 'everysec',
      '--daemonize', 'no',
      '--protected-mode', 'no',
      '--loglevel', 'notice',
    ];
    const { child, logOffset } = this.spawnLogged(this.binary, args);
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 15_000);
    while (Date.now() < deadline) {
      if (this.hasExited(child)) throw this.startError('exited during start-up', logOffset);
      if (await this.ping()) return;
      await sleep(50);
    }
    this.kill();
    throw this.startError(`did not answer PING within ${this.options.startTimeoutMs ?? 15_000} ms`, logOffset);
  }

  /** One RESP PING over a plain socket: a failed ioredis connect leaves a 2 s disconnect timer behind. */
  private ping(): Promise<boolean> {
    return new Promise((done) => {
      const socket = connect({ host: '127.0.0.1', port: this.port });
      let reply = '';
      const finish = (ok: boolean): void => {
        socket.destroy();
        done(ok);
      };
      socket.setTimeout(1000, () => finish(false));
      socket.once('error', () => finish(false));
      socket.once('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
      socket.on('data', (data: Buffer) => {
        reply += data.toString('latin1');
        if (reply.includes('\r\n')) finish(reply.startsWith('+PONG'));
      });
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Kafka

export type KafkaProperties = Record<string, string | number | boolean>;

export interface KafkaOptions {
  /** Client (PLAINTEXT) port. Default: a free loopback port, kept across restarts. */
  port?: number;
  /** KRaft controller port. Default: a free loopback port, kept across restarts. */
  controllerPort?: number;
  /** Data directory (log dirs, config, server log). Default: a fresh temp dir. */
  dir?: string;
  /** Default: `FLAGLINE_KAFKA_LIBS`, else `.infra/kafka/libs` (filled by tools/infra/install.sh). */
  libsDir?: string;
  /** Default: `FLAGLINE_JAVA`, else `$JAVA_HOME/bin/java`, else `java` on PATH. */
  java?: string;
  /** Partitions of auto-created topics. Default 3. */
  numPartitions?: number;
  /** Extra or overriding server.properties entries. */
  properties?: KafkaProperties;
  /** Default 90 s: a cold JVM on 2 shared cores can be slow. */
  startTimeoutMs?: number;
  /** Graceful stop before SIGKILL. Default 30 s. */
  stopTimeoutMs?: number;
}

const KAFKA_JVM_FLAGS = ['-Xms256m', '-Xmx512m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Djava.net.preferIPv4Stack=true', '-Djava.awt.headless=true'];

/** A KRaft cluster id: 16 random bytes, base64url without padding, not starting with '-'. */
export function newKafkaClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

export class KafkaBroker extends ManagedProcess {
  protected readonly name = 'kafka';
  readonly clusterId: string;
  private readonly propertiesFile: string;
  private readonly dataDir: string;
  private formatted = false;

  private constructor(
    readonly port: number,
    readonly controllerPort: number,
    dir: string,
    ownsDir: boolean,
    private readonly java: string,
    private readonly libsDir: string,
    private readonly options: KafkaOptions,
  ) {
    super(dir, join(dir, 'server.log'), ownsDir);
    this.propertiesFile = join(dir, 'server.properties');
    this.dataDir = join(dir, 'data');
    const metaFile = join(this.dataDir, 'meta.properties');
    const existingId = existsSync(metaFile) ? /^cluster\.id=(.+)$/m.exec(readFileSync(metaFile, 'utf8'))?.[1] : undefined;
    this.formatted = existingId !== undefined;
    this.clusterId = existingId ?? newKafkaClusterId();
  }

  /** Bootstrap servers for clients, e.g. `['127.0.0.1:41234']`. */
  get brokers(): string[] {
    return [`127.0.0.1:${this.port}`];
  }

  /** Formats storage, starts a new broker and waits until it serves metadata. */
  static async start(options: KafkaOptions = {}): Promise<KafkaBroker> {
    const libsDir = options.libsDir ?? kafkaLibsDir();
    const java = options.java ?? locateJava();
    const reason = kafkaUnavailableReason(libsDir);
    if (!java || (reason && !options.java)) throw new Error(reason);
    if (!hasKafkaJars(libsDir)) throw new Error(`no Kafka jars in ${libsDir} (run ${INSTALL_COMMAND})`);
    const { dir, owned } = await makeDir(options.dir, 'flagline-kafka-');
    try {
      return await withPortRetry(options.port !== undefined || options.controllerPort !== undefined, async () => {
        const port = options.port ?? (await findFreePort());
        let controllerPort = options.controllerPort ?? (await findFreePort());
        while (controllerPort === port) controllerPort = await findFreePort();
        const broker = new KafkaBroker(port, controllerPort, dir, owned, java, libsDir, options);
        await broker.start();
        return broker;
      });
    } catch (error: unknown) {
      if (owned) await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  protected override defaultStopTimeoutMs(): number {
    return this.options.stopTimeoutMs ?? 30_000;
  }

  /** (Re)starts the broker on the same ports and data directory: topics and committed offsets survive. */
  async start(): Promise<void> {
    await this.waitForExit();
    this.writeConfig();
    if (!this.formatted) {
      await this.format();
      this.formatted = true;
    }
    const { child, logOffset } = this.spawnLogged(this.java, [...this.jvmArgs(), 'kafka.Kafka', this.propertiesFile]);
    const timeoutMs = this.options.startTimeoutMs ?? 90_000;
    const deadline = Date.now() + timeoutMs;
    let offset = logOffset;
    let started = false;
    while (!started) {
      if (this.hasExited(child)) throw this.startError('exited during start-up', logOffset);
      if (Date.now() > deadline) {
        this.kill();
        throw this.startError(`did not log "Kafka Server started" within ${timeoutMs} ms`, logOffset);
      }
      const { text, size } = readLog(this.logFile, offset);
      started = text.includes('Kafka Server started');
      // The next read overlaps this one a little: the marker may straddle two reads.
      offset = Math.max(logOffset, size - 64);
      if (!started) await sleep(100);
    }
    await this.waitForMetadata(child, deadline, logOffset);
  }

  private async waitForMetadata(child: ChildProcess, deadline: number, logOffset: number): Promise<void> {
    const admin = new Kafka({ clientId: 'flagline-infra-readiness', brokers: this.brokers, logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
    let lastError: unknown;
    try {
      while (Date.now() < deadline) {
        if (this.hasExited(child)) throw this.startError('exited during start-up', logOffset);
        try {
          await admin.connect();
          const cluster = await admin.describeCluster();
          if (cluster.brokers.length > 0) return;
        } catch (error: unknown) {
          lastError = error;
        }
        await sleep(200);
      }
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    this.kill();
    const detail = lastError instanceof Error ? lastError.message : String(lastError);
    throw this.startError(`started but did not answer a metadata request (${detail})`, logOffset);
  }

  private jvmArgs(): string[] {
    return [...KAFKA_JVM_FLAGS, `-Dlog4j.configuration=file:${join(this.dir, 'log4j.properties')}`, '-cp', `${this.libsDir}/*`];
  }

  private async format(): Promise<void> {
    const { child, logOffset } = this.spawnLogged(this.java, [...this.jvmArgs(), 'kafka.tools.StorageTool', 'format', '-t', this.clusterId, '-c', this.propertiesFile]);
    await this.waitForExit();
    if (child.exitCode !== 0) throw this.startError(`storage format failed (exit ${child.exitCode ?? child.signalCode ?? '?'})`, logOffset);
  }

  private writeConfig(): void {
    mkdirSync(this.dataDir, { recursive: true });
    const properties: KafkaProperties = {
      'process.roles': 'broker,controller',
      'node.id': 1,
      'controller.quorum.voters': `1@127.0.0.1:${this.controllerPort}`,
      listeners: `PLAINTEXT://127.0.0.1:${this.port},CONTROLLER://127.0.0.1:${this.controllerPort}`,
      'advertised.listeners': `PLAINTEXT://127.0.0.1:${this.port}`,
      'inter.broker.listener.name': 'PLAINTEXT',
      'controller.listener.names': 'CONTROLLER',
      'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      'log.dirs': this.dataDir,
      'num.partitions': this.options.numPartitions ?? 3,
      'auto.create.topics.enable': true,
      'default.replication.factor': 1,
      'min.insync.replicas': 1,
      'offsets.topic.replication.factor': 1,
      'offsets.topic.num.partitions': 1,
      'transaction.state.log.replication.factor': 1,
      'transaction.state.log.min.isr': 1,
      'transaction.state.log.num.partitions': 1,
      'group.initial.rebalance.delay.ms': 0,
      // Kafka refuses consumer sessions under 6 s by default; the projector's is 1 s, so that a
      // killed member's partitions move to the others within seconds (see KAFKA_SESSION_TIMEOUT_MS).
      'group.min.session.timeout.ms': 500,
      'num.network.threads': 2,
      'num.io.threads': 2,
      'background.threads': 2,
      'num.recovery.threads.per.data.dir': 1,
      'log.cleaner.dedupe.buffer.size': 2097152,
      'log.cleaner.threads': 1,
      // After a crash (kill()) the restarted broker cannot register until the controller expires
      // the old session: 9 s by default, 3 s here.
      'broker.heartbeat.interval.ms': 500,
      'broker.session.timeout.ms': 3000,
      ...this.options.properties,
    };
    writeFileSync(this.propertiesFile, Object.entries(properties).map(([k, v]) => `${k}=${String(v)}`).join('\n') + '\n');
    writeFileSync(
      join(this.dir, 'log4j.properties'),
      [
        'log4j.rootLogger=INFO, stdout',
        'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
        'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
        'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
        // Request logging and per-partition state changes drown the start-up and fault lines.
        'log4j.logger.kafka.request.logger=WARN',
        'log4j.logger.state.change.logger=WARN',
        'log4j.logger.org.apache.kafka.clients.NetworkClient=WARN',
        '',
      ].join('\n'),
    );
  }
}

// ---------------------------------------------------------------------------------------------

/** Starts a Redis server on a free loopback port; see {@link RedisServer}. */
export function startRedis(options?: RedisOptions): Promise<RedisServer> {
  return RedisServer.start(options);
}

/** Starts a single-node KRaft Kafka broker on free loopback ports; see {@link KafkaBroker}. */
export function startKafka(options?: KafkaOptions): Promise<KafkaBroker> {
  return KafkaBroker.start(options);
}

