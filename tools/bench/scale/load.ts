import autocannon from 'autocannon';

export interface LoadOptions {
  readonly url: string;
  readonly method?: 'GET' | 'POST';
  readonly path: string;
  readonly headers: Record<string, string>;
  /** The body of the i-th request (0-based, in the order they are sent). */
  readonly body?: (index: number) => string;
  /** The path of the i-th request, when it changes per request. */
  readonly pathOf?: (index: number) => string;
  readonly connections: number;
  /** Stop after this many requests, or after `duration` seconds. */
  readonly amount?: number;
  readonly duration?: number;
  /** Keep every response time (ms, sub-millisecond precision) for percentiles. */
  readonly keepLatencies?: boolean;
  /** Called every few seconds with the count answered so far. */
  readonly progress?: (answered: number) => void;
}

export interface LoadOutcome {
  /** Requests built (each gets the next index): at least as many as were answered. */
  readonly sent: number;
  readonly ok: number;
  readonly failed: number;
  readonly seconds: number;
  readonly latencies: number[];
}

/**
 * A saturating load with autocannon: each connection sends its next request when the last is
 * answered; a request generator gives each its own body. Response times come from autocannon's
 * per-response event, not its millisecond histogram, so a p99 of 2.4 ms reads as 2.4.
 */
export async function load(options: LoadOptions): Promise<LoadOutcome> {
  let sent = 0;
  const latencies: number[] = [];
  const request: autocannon.Request = {
    method: options.method ?? 'GET',
    path: options.path,
    setupRequest: (request) => {
      const index = sent++;
      return {
        ...request,
        ...(options.pathOf ? { path: options.pathOf(index) } : {}),
        ...(options.body ? { body: options.body(index) } : {}),
      };
    },
  };
  const started = performance.now();
  let answered = 0;
  let instance: autocannon.Instance | undefined;
  const finished = new Promise<autocannon.Result>((resolveLoad, reject) => {
    instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        pipelining: 1,
        headers: options.headers,
        requests: [request],
        timeout: 30,
        ...(options.amount !== undefined ? { amount: options.amount } : { duration: options.duration ?? 10 }),
      },
      (error: unknown, result: autocannon.Result) => (error ? reject(error instanceof Error ? error : new Error('autocannon failed')) : resolveLoad(result)),
    );
  });
  instance?.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
    answered++;
    if (options.keepLatencies) latencies.push(responseTime);
  });
  const ticker = options.progress ? setInterval(() => options.progress?.(answered), 5_000) : undefined;
  try {
    const result = await finished;
    const seconds = (performance.now() - started) / 1000;
    return { sent, ok: result['2xx'], failed: result.errors + result.timeouts + result.non2xx, seconds, latencies };
  } finally {
    if (ticker) clearInterval(ticker);
  }
}
