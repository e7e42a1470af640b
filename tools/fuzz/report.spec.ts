import { coverageGaps, summariseEvents } from './report';

const finished = (label: string, status: string, requests: number, failures: { name: string; title: string; message: string }[] = []): string =>
  JSON.stringify({
    ScenarioFinished: {
      status,
      recorder: {
        label,
        interactions: Object.fromEntries(Array.from({ length: requests }, (_, index) => [`i${index}`, { request: {}, response: { status_code: 200 } }])),
        checks: {
          case1: [
            { name: 'not_a_server_error', status: 'success' },
            ...failures.map((failure) => ({ name: failure.name, status: 'failure', failure_info: { failure: { operation: label, title: failure.title, message: failure.message } } })),
          ],
        },
      },
    },
  });

describe('summariseEvents', () => {
  it('counts every recorded request, distinct failures, and operations by their worst outcome across phases', () => {
    const serverError = { name: 'not_a_server_error', title: 'Server error', message: '500' };
    const ndjson = [
      JSON.stringify({ Initialize: { seed: 1 } }),
      finished('GET /a', 'success', 3),
      finished('GET /a', 'failure', 2, [serverError]),
      finished('GET /a', 'failure', 1, [serverError]),
      finished('POST /b', 'success', 4),
      finished('POST /b', 'skip', 0),
      finished('DELETE /c', 'error', 1),
      finished('PUT /d', 'skip', 0),
      '',
    ].join('\n');
    const summary = summariseEvents(ndjson);
    expect(summary.requests).toBe(11);
    expect(summary.failures).toBe(1);
    expect(summary.failureList).toEqual([{ operation: 'GET /a', check: 'not_a_server_error', title: 'Server error', message: '500' }]);
    expect(summary.operationsPassed).toBe(1);
    expect(summary.operationsFailed).toBe(2);
    expect(summary.operationErrors).toEqual(['DELETE /c']);
  });

  it('reports nothing for an empty stream', () => {
    expect(summariseEvents('')).toMatchObject({ requests: 0, failures: 0, operationsPassed: 0, operationsFailed: 0, operations: [], operationsWith2xx: [] });
  });

  it('counts an operation as answering 2xx only for a request with its own method', () => {
    const scenario = (label: string, answers: [method: string, status: number | null][]): string =>
      JSON.stringify({
        ScenarioFinished: {
          status: 'success',
          recorder: {
            label,
            interactions: Object.fromEntries(answers.map(([method, status], index) => [`i${index}`, { request: { method }, response: status === null ? null : { status_code: status } }])),
          },
        },
      });
    const summary = summariseEvents(
      [
        scenario('DELETE /a', [['DELETE', 404], ['DELETE', 204]]),
        // The CORS preflight answers 204 to OPTIONS: that is not the operation answering.
        scenario('POST /b', [['OPTIONS', 204], ['POST', 404], ['POST', null]]),
        scenario('GET /c', [['GET', 299], ['GET', 300]]),
        scenario('PUT /d', [['PUT', 409]]),
      ].join('\n'),
    );
    expect(summary.operations).toEqual(['DELETE /a', 'GET /c', 'POST /b', 'PUT /d']);
    expect(summary.operationsWith2xx).toEqual(['DELETE /a', 'GET /c']);
    expect(coverageGaps(summary, { 'PUT /d': 'conflicts by design', 'GET /c': 'no longer true' })).toEqual({ unexplained: ['POST /b'], stale: ['GET /c'] });
  });
});
