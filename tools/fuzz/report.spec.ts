import { summariseEvents } from './report';

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
    expect(summariseEvents('')).toMatchObject({ requests: 0, failures: 0, operationsPassed: 0, operationsFailed: 0 });
  });
});
