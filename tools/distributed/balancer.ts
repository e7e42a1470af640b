// A small HTTP balancer for the local distributed tier: round robin over the evaluation instances
// whose readiness answers 200, and a request refused by one instance goes to the next.
import { Agent, createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Upstream {
  readonly name: string;
  /** e.g. `http://127.0.0.1:8010` */
  readonly url: string;
}

export interface BalancerOptions {
  readonly upstreams: readonly Upstream[];
  /** Where readiness is asked; 200 means the instance takes traffic. Default `/health/ready`. */
  readonly readinessPath?: string;
  /** How often each instance's readiness is asked. Default 250 ms. */
  readonly pollIntervalMs?: number;
  /** Largest request body forwarded (it is buffered, so it can be sent again). Default 8 MiB. */
  readonly maxBodyBytes?: number;
  /** Called when an instance starts or stops taking traffic. */
  readonly onReadinessChange?: (upstream: Upstream, ready: boolean, reason: string) => void;
}

interface Member {
  readonly upstream: Upstream;
  readonly host: string;
  readonly port: number;
  ready: boolean;
  reason: string;
}

// Headers that belong to one connection, not to the request (RFC 9110 §7.6.1).
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'proxy-authorization', 'proxy-authenticate']);
// Errors after which the request may not have reached the instance's handler: a refused
// connection never did; a reset pooled socket (the instance just died) did not either, but
// only a method without side effects is sent again in that case.
const REFUSED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH']);
const RESET = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS']);

function forwardedHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

/** Sends an answer unless one was started; the balancer's own answers are JSON like the services'. */
function answer(response: ServerResponse, status: number, body: Record<string, unknown>): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

export class ReadyBalancer {
  private readonly members: Member[];
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 256 });
  private readonly server: Server;
  private next = 0;
  private poller: NodeJS.Timeout | undefined;
  private polling = false;
  /** Requests sent again to another instance after a refusal or reset. */
  retried = 0;

  constructor(private readonly options: BalancerOptions) {
    this.members = options.upstreams.map((upstream) => {
      const url = new URL(upstream.url);
      return { upstream, host: url.hostname, port: Number(url.port), ready: false, reason: 'not polled yet' };
    });
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 5000;
  }

  /** Instances taking traffic now. */
  get readyUpstreams(): Upstream[] {
    return this.members.filter((member) => member.ready).map((member) => member.upstream);
  }

  /** Polls readiness once, then listens; resolves with the port. */
  async listen(port: number, host: string): Promise<number> {
    await this.pollAll();
    this.poller = setInterval(() => {
      if (this.polling) return;
      this.polling = true;
      void this.pollAll().finally(() => (this.polling = false));
    }, this.options.pollIntervalMs ?? 250);
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    clearInterval(this.poller);
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    this.agent.destroy();
  }

  private async pollAll(): Promise<void> {
    await Promise.all(this.members.map((member) => this.poll(member)));
  }

  private async poll(member: Member): Promise<void> {
    let ready = false;
    let reason: string;
    try {
      const response = await fetch(member.upstream.url + (this.options.readinessPath ?? '/health/ready'), { signal: AbortSignal.timeout(1000) });
      const body = await response.text();
      ready = response.status === 200;
      reason = ready ? 'ready' : `readiness answered ${response.status}: ${body.slice(0, 200)}`;
    } catch (error: unknown) {
      reason = `readiness unreachable: ${error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error)}`;
    }
    this.setReady(member, ready, reason);
  }

  private setReady(member: Member, ready: boolean, reason: string): void {
    const changed = member.ready !== ready;
    member.ready = ready;
    member.reason = reason;
    if (changed) this.options.onReadinessChange?.(member.upstream, ready, reason);
  }

  /** The next ready instance in round-robin order, skipping those already tried for this request. */
  private pick(tried: ReadonlySet<Member>): Member | undefined {
    for (let i = 0; i < this.members.length; i++) {
      const member = this.members[(this.next + i) % this.members.length];
      if (member && member.ready && !tried.has(member)) {
        this.next = (this.next + i + 1) % this.members.length;
        return member;
      }
    }
    return undefined;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    const limit = this.options.maxBodyBytes ?? 8 * 1024 * 1024;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        answer(res, 413, { error: `request body over ${limit} bytes` });
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (size <= limit) this.forward(req, res, Buffer.concat(chunks), new Set());
    });
    req.on('error', () => res.destroy());
  }

  private forward(req: IncomingMessage, res: ServerResponse, body: Buffer, tried: Set<Member>): void {
    const member = this.pick(tried);
    if (!member) {
      const reasons = Object.fromEntries(this.members.map((m) => [m.upstream.name, m.reason]));
      answer(res, 503, { error: 'no evaluation instance is ready', instances: reasons });
      return;
    }
    tried.add(member);
    const headers = forwardedHeaders(req.headers);
    headers['content-length'] = String(body.length);
    const client = req.socket.remoteAddress;
    if (client) headers['x-forwarded-for'] = [req.headers['x-forwarded-for'], client].filter(Boolean).join(', ');
    let responded = false;
    const upstream = request(
      { host: member.host, port: member.port, method: req.method, path: req.url, headers, agent: this.agent },
      (upstreamResponse) => {
        responded = true;
        res.writeHead(upstreamResponse.statusCode ?? 502, forwardedHeaders(upstreamResponse.headers));
        upstreamResponse.pipe(res);
        upstreamResponse.on('error', () => res.destroy());
      },
    );
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      if (responded) {
        res.destroy();
        return;
      }
      const code = error.code ?? '';
      if (REFUSED.has(code) || RESET.has(code)) this.setReady(member, false, `${code} on a request`);
      if (REFUSED.has(code) || (RESET.has(code) && IDEMPOTENT.has(req.method ?? ''))) {
        this.retried++;
        this.forward(req, res, body, tried);
        return;
      }
      answer(res, 502, { error: `evaluation instance ${member.upstream.name} failed: ${error.message}` });
    });
    upstream.end(body);
  }
}
