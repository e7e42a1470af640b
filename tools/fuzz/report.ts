import { readFile } from 'node:fs/promises';

export interface FuzzFailure {
  readonly operation: string;
  readonly check: string;
  readonly title: string;
  readonly message: string;
}

export interface FuzzSummary {
  /** HTTP requests Schemathesis sent and recorded an answer or a network error for. */
  readonly requests: number;
  /** Distinct failures: the same check failing the same way on one operation counts once. */
  readonly failures: number;
  readonly failureList: readonly FuzzFailure[];
  readonly operationsPassed: number;
  readonly operationsFailed: number;
  /** Operations that ended in an error of Schemathesis itself (not of the API). */
  readonly operationErrors: readonly string[];
}

interface CheckRecord {
  readonly name?: string;
  readonly status?: string;
  readonly failure_info?: { readonly failure?: { readonly operation?: string; readonly title?: string; readonly message?: string } };
}

interface ScenarioFinished {
  readonly status?: string;
  readonly recorder?: { readonly label?: string; readonly interactions?: Record<string, unknown>; readonly checks?: Record<string, readonly CheckRecord[]> };
}

const asObject = (value: unknown): Record<string, unknown> | null => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null);

/**
 * Reads Schemathesis's NDJSON event stream (`--report ndjson`): every `ScenarioFinished` event
 * carries the interactions (one per request) and the checks run on each response.
 */
export function summariseEvents(ndjson: string): FuzzSummary {
  let requests = 0;
  const failures = new Map<string, FuzzFailure>();
  const outcome = new Map<string, 'passed' | 'failed' | 'error'>();
  for (const line of ndjson.split('\n')) {
    if (line.trim() === '') continue;
    const event = asObject(JSON.parse(line));
    const scenario = asObject(event?.['ScenarioFinished']) as ScenarioFinished | null;
    if (!scenario) continue;
    const label = scenario.recorder?.label ?? '(unknown operation)';
    requests += Object.keys(scenario.recorder?.interactions ?? {}).length;
    for (const checks of Object.values(scenario.recorder?.checks ?? {})) {
      for (const check of checks) {
        if (check.status !== 'failure') continue;
        const failure = check.failure_info?.failure;
        const entry = { operation: failure?.operation ?? label, check: check.name ?? 'unknown', title: failure?.title ?? 'failure', message: failure?.message ?? '' };
        failures.set(JSON.stringify(entry), entry);
      }
    }
    const previous = outcome.get(label);
    if (scenario.status === 'error') outcome.set(label, 'error');
    else if (scenario.status === 'failure' && previous !== 'error') outcome.set(label, 'failed');
    else if (previous === undefined && scenario.status !== 'skip') outcome.set(label, 'passed');
  }
  for (const failure of failures.values()) if (outcome.get(failure.operation) !== 'error') outcome.set(failure.operation, 'failed');
  const values = [...outcome.entries()];
  return {
    requests,
    failures: failures.size,
    failureList: [...failures.values()],
    operationsPassed: values.filter(([, state]) => state === 'passed').length,
    operationsFailed: values.filter(([, state]) => state !== 'passed').length,
    operationErrors: values.filter(([, state]) => state === 'error').map(([label]) => label),
  };
}

export async function readSchemathesisReport(file: string): Promise<FuzzSummary> {
  return summariseEvents(await readFile(file, 'utf8'));
}
