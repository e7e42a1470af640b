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
  /** Operations with a failure or an error. */
  readonly failedOperations: readonly string[];
  /** Every operation the stream names, sorted. */
  readonly operations: readonly string[];
  /**
   * Operations that answered at least one request sent with their own method with a 2xx status
   * (requests with another method, which the coverage phase sends too, reach other routes).
   */
  readonly operationsWith2xx: readonly string[];
}

interface CheckRecord {
  readonly name?: string;
  readonly status?: string;
  readonly failure_info?: { readonly failure?: { readonly operation?: string; readonly title?: string; readonly message?: string } };
}

interface Interaction {
  readonly request?: { readonly method?: string };
  readonly response?: { readonly status_code?: number } | null;
}

interface ScenarioFinished {
  readonly status?: string;
  readonly recorder?: { readonly label?: string; readonly interactions?: Record<string, Interaction>; readonly checks?: Record<string, readonly CheckRecord[]> };
}

const isSuccess = (interaction: Interaction, method: string): boolean => {
  const status = interaction.response?.status_code;
  return interaction.request?.method?.toUpperCase() === method && status !== undefined && status >= 200 && status < 300;
};

const asObject = (value: unknown): Record<string, unknown> | null => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null);

/**
 * Reads Schemathesis's NDJSON event stream (`--report ndjson`): every `ScenarioFinished` event
 * carries the interactions (one per request) and the checks run on each response.
 */
export function summariseEvents(ndjson: string): FuzzSummary {
  let requests = 0;
  const failures = new Map<string, FuzzFailure>();
  const outcome = new Map<string, 'passed' | 'failed' | 'error'>();
  const labels = new Set<string>();
  const with2xx = new Set<string>();
  for (const line of ndjson.split('\n')) {
    if (line.trim() === '') continue;
    const event = asObject(JSON.parse(line));
    const scenario = asObject(event?.['ScenarioFinished']) as ScenarioFinished | null;
    if (!scenario) continue;
    const label = scenario.recorder?.label ?? '(unknown operation)';
    const interactions = Object.values(scenario.recorder?.interactions ?? {});
    requests += interactions.length;
    labels.add(label);
    const method = label.split(' ')[0] ?? '';
    if (interactions.some((interaction) => isSuccess(interaction, method))) with2xx.add(label);
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
    failedOperations: values.filter(([, state]) => state !== 'passed').map(([label]) => label),
    operations: [...labels].sort(),
    operationsWith2xx: [...with2xx].sort(),
  };
}

export async function readSchemathesisReport(file: string): Promise<FuzzSummary> {
  return summariseEvents(await readFile(file, 'utf8'));
}

/**
 * Operations with no 2xx answer that the allow-list does not explain, and allow-listed ones that
 * did answer 2xx (their explanation no longer holds).
 */
export function coverageGaps(summary: Pick<FuzzSummary, 'operations' | 'operationsWith2xx'>, allowed: Readonly<Record<string, string>>): { readonly unexplained: string[]; readonly stale: string[] } {
  const served = new Set(summary.operationsWith2xx);
  return {
    unexplained: summary.operations.filter((operation) => !served.has(operation) && !(operation in allowed)),
    stale: Object.keys(allowed).filter((operation) => served.has(operation)),
  };
}
