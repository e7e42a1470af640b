import { sleep } from './wait';

export interface LoadRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface LoadStats {
  readonly total: number;
  readonly byStatus: Record<string, number>;
  /** Requests that got no HTTP answer (refused, reset, timed out), with the reason. */
  readonly errors: string[];
  /** Non-2xx answers, first few with their body. */
  readonly failures: string[];
  readonly maxLatencyMs: number;
  /** When each request was answered (ms since the epoch), to count those inside a window. */
  readonly answeredAt: number[];
}

/**
 * `concurrency` loops of GET requests (the next one as soon as the previous answered) until
 * `stop()` resolves; every outcome is counted, nothing is retried.
 */
export async function runHttpLoad(concurrency: number, next: (n: number) => LoadRequest, stop: Promise<void>, timeoutMs = 5000): Promise<LoadStats> {
  let stopped = false;
  void stop.then(() => (stopped = true));
  const byStatus: Record<string, number> = {};
  const errors: string[] = [];
  const failures: string[] = [];
  const answeredAt: number[] = [];
  let total = 0;
  let maxLatencyMs = 0;
  let counter = 0;
  const worker = async (): Promise<void> => {
    while (!stopped) {
      const request = next(counter++);
      const started = Date.now();
      try {
        const response = await fetch(request.url, { headers: request.headers, signal: AbortSignal.timeout(timeoutMs) });
        const body = await response.text();
        byStatus[response.status] = (byStatus[response.status] ?? 0) + 1;
        if ((response.status < 200 || response.status > 299) && failures.length < 10) failures.push(`${response.status} ${request.url}: ${body.slice(0, 200)}`);
      } catch (error: unknown) {
        const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : '';
        errors.push(`${request.url}: ${error instanceof Error ? error.message : String(error)}${cause}`);
        // Do not spin on a refused connection.
        await sleep(10);
      }
      const now = Date.now();
      total++;
      answeredAt.push(now);
      maxLatencyMs = Math.max(maxLatencyMs, now - started);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, () => worker()));
  return { total, byStatus, errors, failures, maxLatencyMs, answeredAt };
}

/** Polls `probe` every `intervalMs` until `stop` resolves; returns the samples with their time. */
export async function sample<T>(intervalMs: number, probe: () => Promise<T>, stop: Promise<void>): Promise<{ at: number; value: T | Error }[]> {
  let stopped = false;
  void stop.then(() => (stopped = true));
  const samples: { at: number; value: T | Error }[] = [];
  while (!stopped) {
    try {
      const value = await probe();
      samples.push({ at: Date.now(), value });
    } catch (error: unknown) {
      samples.push({ at: Date.now(), value: error instanceof Error ? error : new Error(String(error)) });
    }
    await sleep(intervalMs);
  }
  return samples;
}

/** A promise with its resolve function, to signal "stop" to load loops. */
export function signal(): { promise: Promise<void>; fire: () => void } {
  let fire: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => (fire = resolve));
  return { promise, fire };
}
