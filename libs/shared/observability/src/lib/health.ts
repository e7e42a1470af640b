import type { ServiceMetrics } from './metrics';

/** One check as `/health/ready` reports it: whether it passes, why not, and since when that holds. */
export interface CheckReport {
  readonly ok: boolean;
  readonly reason?: string;
  /** ISO time of the last change between passing and failing (or of the first report). */
  readonly since: string;
}

/**
 * - `ok`: every check passes.
 * - `degraded`: ready, but a check that does not stop progress fails (e.g. serving from memory
 *   while the update feed is down).
 * - `unavailable`: a check that progress needs fails; `/health/ready` answers 503.
 */
export type HealthStatus = 'ok' | 'degraded' | 'unavailable';

/** What a service reports about itself; `ready: false` makes `/health/ready` answer 503. */
export interface HealthReport {
  readonly status: HealthStatus;
  readonly ready: boolean;
  readonly service: string;
  readonly checks: Readonly<Record<string, CheckReport>>;
  readonly [detail: string]: unknown;
}

/** A check's outcome: passing, or failing with the reason an operator reads. */
export type CheckOutcome = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export interface CheckOptions {
  /**
   * `required` (default): failing makes the service unready. `degrading`: failing only marks it
   * `degraded`, it stays ready.
   */
  readonly effect?: 'required' | 'degrading';
  /** Exported as `flagline_dependency_up{dependency=<this>}` (a connection to kafka, redis, eventstore). */
  readonly dependency?: string;
}

interface Check {
  readonly options: CheckOptions;
  /** Evaluated at each report; absent for a check whose state is pushed with `set`. */
  readonly probe?: () => CheckOutcome;
  outcome: CheckOutcome;
  since: number;
}

export const PASSING: CheckOutcome = { ok: true };

export function failing(reason: string): CheckOutcome {
  return { ok: false, reason };
}

/** An error's message for a check's reason (never a stack). */
export function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message || error.name : String(error);
}

/**
 * The checks behind a service's `/health/ready`: each one either pushed (`set`, from connection
 * events) or probed at each report, with the time of its last change, so the 503 body names
 * every failing check, why, and since when.
 */
export class HealthChecks {
  private readonly checks = new Map<string, Check>();

  constructor(
    readonly service: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** A check whose state the service pushes with `set`; it starts failing with `initial`. */
  add(name: string, initial: string, options: CheckOptions = {}): this {
    return this.register(name, options, undefined, failing(initial));
  }

  /** A check evaluated whenever health is reported. */
  probe(name: string, probe: () => CheckOutcome, options: CheckOptions = {}): this {
    return this.register(name, options, probe, probe());
  }

  private register(name: string, options: CheckOptions, probe: (() => CheckOutcome) | undefined, outcome: CheckOutcome): this {
    if (this.checks.has(name)) throw new Error(`A health check named ${name} is already registered`);
    this.checks.set(name, { options, ...(probe ? { probe } : {}), outcome, since: this.now() });
    return this;
  }

  /** Records a pushed check's state; its `since` moves only when it flips between passing and failing. */
  set(name: string, outcome: CheckOutcome): void {
    const check = this.checks.get(name);
    if (check === undefined) throw new Error(`No health check named ${name}`);
    this.update(check, outcome);
  }

  up(name: string): void {
    this.set(name, PASSING);
  }

  down(name: string, reason: string): void {
    this.set(name, failing(reason));
  }

  private update(check: Check, outcome: CheckOutcome): void {
    if (outcome.ok !== check.outcome.ok) check.since = this.now();
    check.outcome = outcome;
  }

  /** Every check, probes evaluated now. */
  private current(): [string, Check][] {
    for (const check of this.checks.values()) if (check.probe) this.update(check, check.probe());
    return [...this.checks];
  }

  report(details: Readonly<Record<string, unknown>> = {}): HealthReport {
    const checks: Record<string, CheckReport> = {};
    let ready = true;
    let degraded = false;
    for (const [name, check] of this.current()) {
      const { outcome } = check;
      checks[name] = { ok: outcome.ok, ...(outcome.ok ? {} : { reason: outcome.reason }), since: new Date(check.since).toISOString() };
      if (outcome.ok) continue;
      if ((check.options.effect ?? 'required') === 'required') ready = false;
      else degraded = true;
    }
    const status: HealthStatus = !ready ? 'unavailable' : degraded ? 'degraded' : 'ok';
    return { ...details, status, ready, service: this.service, checks };
  }

  /** `flagline_ready` (1 or 0) and `flagline_dependency_up{dependency}` for checks naming a dependency. */
  exportTo(metrics: ServiceMetrics): void {
    metrics.gauge('flagline_ready', '1 while /health/ready answers 200', [], (gauge) => gauge.set(this.report().ready ? 1 : 0));
    metrics.gauge('flagline_dependency_up', 'Connection state of each dependency (1 up, 0 down)', ['dependency'], (gauge) => {
      const up = new Map<string, boolean>();
      for (const [, check] of this.current()) {
        const dependency = check.options.dependency;
        // Several checks may cover one dependency (consumer and producer on Kafka): up if all pass.
        if (dependency !== undefined) up.set(dependency, (up.get(dependency) ?? true) && check.outcome.ok);
      }
      for (const [dependency, ok] of up) gauge.set({ dependency }, ok ? 1 : 0);
    });
  }
}

/** What `watchConnection` needs of a client that reconnects by itself (ioredis's `Redis` has it). */
export interface ReconnectingClient {
  readonly status: string;
  on(event: 'ready' | 'close' | 'end' | 'error', listener: (error?: unknown) => void): unknown;
}

/**
 * Keeps the pushed check `check` in step with a reconnecting client: passing from `ready`,
 * failing from `close`/`end` with the last error the client reported (the address it could not
 * reach, usually).
 */
export function watchConnection(client: ReconnectingClient, health: HealthChecks, check: string): void {
  let lastError: string | undefined;
  const lost = (): void => health.down(check, lastError === undefined ? 'connection closed' : `connection lost: ${lastError}`);
  client.on('error', (error) => {
    lastError = reasonOf(error);
    if (client.status !== 'ready') lost();
  });
  client.on('ready', () => {
    lastError = undefined;
    health.up(check);
  });
  client.on('close', lost);
  client.on('end', lost);
  if (client.status === 'ready') health.up(check);
}

/**
 * Whether a follower of a log (a catalog, a projection) is caught up enough to serve: it must
 * have reached where the log's head was `windowMs` ago. Positions may be sparse (EventStoreDB's
 * commit positions), so no count of events is assumed; a follower that keeps up under a steady
 * stream of writes passes, one that stopped or falls ever further behind fails.
 */
export class CatchUpWindow {
  private readonly samples: { at: number; head: number }[] = [];

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records the log's head as read now. */
  head(position: number): void {
    const at = this.now();
    this.samples.push({ at, head: position });
    // Keep the newest sample at least a window old, and those after it.
    while (this.samples.length > 1 && (this.samples[1] as { at: number }).at <= at - this.windowMs) this.samples.shift();
  }

  check(position: number): CheckOutcome {
    const due = this.samples[0];
    if (due === undefined || due.at > this.now() - this.windowMs || position >= due.head) return PASSING;
    return failing(`at position ${position}, behind where the log's head was ${Math.round(this.windowMs / 1000)} s ago (${due.head})`);
  }
}
