import type { IdentityWriter } from '@flagline/contracts';
import { stringifyJsonKeepingFloats } from '@flagline/python-compat';
import { ExponentialBackoff, handleWhen, retry } from 'cockatiel';

class RetryableWriteError extends Error {}

/**
 * Sends identify calls to the command service (`POST /internal/v1/identities`), which appends
 * them to the event store. Network errors, 5xx and conflicts are retried with exponential
 * backoff (cockatiel); any other 4xx is final.
 */
export class HttpIdentityWriter implements IdentityWriter {
  private readonly policy;

  constructor(
    private readonly commandServiceUrl: string,
    private readonly token: string,
    private readonly options: { readonly attempts?: number; readonly timeoutMs?: number } = {},
  ) {
    this.policy = retry(
      handleWhen((error: unknown) => error instanceof RetryableWriteError || (error instanceof Error && (error.name === 'TypeError' || error.name === 'TimeoutError'))),
      { maxAttempts: (options.attempts ?? 3) - 1, backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 1000 }) },
    );
  }

  async record(input: Parameters<IdentityWriter['record']>[0]): Promise<void> {
    // `absent` is a hint for an in-process writer: the command service looks the identity up
    // itself, and its internal API refuses fields it does not know.
    const { absent: _hint, ...sent } = input;
    await this.policy.execute(async () => {
      const response = await fetch(new URL('/internal/v1/identities', this.commandServiceUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}`, 'x-correlation-id': input.correlationId },
        // A trait written 5.0 stays a float on its way to the command service.
        body: stringifyJsonKeepingFloats(sent),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
      });
      if (response.ok) return;
      const detail = await response.text();
      // 5xx, and a 409 from identify calls racing on one identity, are worth another try.
      if (response.status >= 500 || response.status === 409) throw new RetryableWriteError(`command service answered ${response.status}: ${detail}`);
      throw new Error(`command service refused the identity write (${response.status}): ${detail}`);
    });
  }
}
