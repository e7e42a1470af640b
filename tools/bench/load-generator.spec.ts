import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bodyOf, chooseGenerator, parseOhaOutput, parseWrkOutput, runTimedLoad, sentBelow, wrkDurationMs, type Machine } from './load-generator';

// Recorded from `taskset -c 1 wrk -t1 -c8 -d1s --latency -s tools/bench/wrk-bodies.lua URL -- bodies.txt POST 1`
// against a server answering 503 to one request in 7.
const RECORDED_WRK = `Running 1s test @ http://127.0.0.1:18780/api/v1/identities/
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.72ms    8.95ms  83.41ms   89.45%
    Req/Sec    24.55k    19.56k   54.19k    54.55%
  Latency Distribution
     50%  142.00us
     75%    1.61ms
     90%   13.52ms
     99%   40.95ms
  26815 requests in 1.10s, 3.23MB read
  Non-2xx or 3xx responses: 3831
Requests/sec:  24366.42
Transfer/sec:      2.94MB
WRK_JSON {"requests":26815,"duration_us":1100490,"bytes":3390187,"errors":{"connect":0,"read":0,"write":0,"status":3831,"timeout":0},"latency_us":{"min":15,"mean":3718.9,"max":83412,"p50":142,"p90":13523,"p99":40947,"p99.9":77180},"sent":[26823]}
`;

const machine = (commands: string[], cpus = 2, loadAverage = 0.2): Machine => ({ has: (command) => commands.includes(command), cpus, loadAverage });

const hasWrk = (): boolean => {
  try {
    execFileSync('sh', ['-c', 'command -v wrk'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

describe('load generator', () => {
  it("reads wrk's units as milliseconds and rejects anything else", () => {
    expect(wrkDurationMs('142.00us')).toBeCloseTo(0.142, 6);
    expect(wrkDurationMs('1.61ms')).toBe(1.61);
    expect(wrkDurationMs('1.02s')).toBe(1020);
    expect(wrkDurationMs('2.00m')).toBe(120_000);
    expect(() => wrkDurationMs('fast')).toThrow('not a wrk duration: "fast"');
  });

  it('parses recorded wrk output: the --latency table, the script JSON line, errors and requests sent', () => {
    const report = parseWrkOutput(RECORDED_WRK);
    expect(report.requests).toBe(26_815);
    expect(report.seconds).toBeCloseTo(1.10049, 5);
    expect(report.errors).toEqual({ connect: 0, read: 0, write: 0, status: 3831, timeout: 0 });
    expect(report.distribution).toEqual({ '50': 0.142, '75': 1.61, '90': 13.52, '99': 40.95 });
    const expected = { p50: 0.142, p90: 13.523, p99: 40.947, p999: 77.18, max: 83.412, mean: 3.7189 };
    for (const [key, value] of Object.entries(expected)) expect(report.latency[key as keyof typeof expected]).toBeCloseTo(value, 6);
    // The table (rounded by wrk) and the JSON line agree.
    expect(report.latency.p99).toBeCloseTo(report.distribution['99'] ?? 0, 1);
    expect(report.sentByThread).toEqual([26_823]);
  });

  it('says so when wrk ran without the script', () => {
    expect(() => parseWrkOutput(RECORDED_WRK.split('WRK_JSON')[0] ?? '')).toThrow('no WRK_JSON line');
  });

  it('finds the request numbers all sent across threads', () => {
    expect(sentBelow([26_823])).toBe(26_823);
    // Thread 0 sent 0, 2, …, 16320; thread 1 sent 1, 3, …, 15351: all below 15352 went out.
    expect(sentBelow([8161, 7676])).toBe(15_352);
    expect(sentBelow([])).toBe(0);
  });

  it('rotates bodies and numbers each request', () => {
    const bodies = { count: 2, at: (index: number) => `{"identifier":"${index === 0 ? 'a' : 'b'}-{{n}}","k":"{{n}}"}` };
    expect(bodyOf(bodies, 0)).toBe('{"identifier":"a-0","k":"0"}');
    expect(bodyOf(bodies, 5)).toBe('{"identifier":"b-5","k":"5"}');
  });

  it('parses oha JSON (seconds) into ms, counting non-2xx and errors as failed', () => {
    const output = JSON.stringify({
      summary: { total: 10.0, successRate: 1, requestsPerSec: 14_000 },
      slowest: 0.0312,
      latencyPercentiles: { p50: 0.0031, p99: 0.0049, 'p99.9': 0.0102 },
      statusCodeDistribution: { '200': 139_990, '503': 7 },
      errorDistribution: { 'connection reset': 3 },
    });
    const outcome = parseOhaOutput(output);
    expect(outcome.ok).toBe(139_990);
    expect(outcome.failed).toBe(10);
    expect(outcome.latency.p50).toBeCloseTo(3.1, 6);
    expect(outcome.latency.p99).toBeCloseTo(4.9, 6);
    expect(outcome.latency.p999).toBeCloseTo(10.2, 6);
  });

  describe('choosing the generator', () => {
    it('defaults to wrk pinned when wrk and taskset are there', () => {
      expect(chooseGenerator({}, machine(['wrk', 'taskset']))).toEqual({ generator: 'wrk', pin: true, notes: [] });
    });

    it('falls back to autocannon, unpinned, with a reason, when wrk is absent', () => {
      const choice = chooseGenerator({}, machine(['taskset']));
      expect(choice.generator).toBe('autocannon');
      expect(choice.pin).toBe(false);
      expect(choice.notes).toEqual(['wrk is not installed (apt-get install wrk): autocannon, in the bench process, generates the load']);
      expect(chooseGenerator({ generator: 'wrk' }, machine(['taskset'])).notes).toEqual(['wrk is not installed (apt-get install wrk): autocannon instead']);
    });

    it('skips oha with a reason when it is not installed', () => {
      expect(chooseGenerator({ generator: 'oha' }, machine(['wrk', 'taskset']))).toEqual({ generator: 'wrk', pin: true, notes: ['oha is not installed (cargo install oha): wrk instead'] });
      expect(chooseGenerator({ generator: 'oha' }, machine(['oha', 'taskset'])).generator).toBe('oha');
    });

    it('pins only with taskset and two CPUs, and as asked', () => {
      expect(chooseGenerator({ pin: true }, machine(['wrk'])).notes).toEqual(['taskset is not installed (util-linux): server and generator not pinned']);
      expect(chooseGenerator({ pin: true }, machine(['wrk', 'taskset'], 1))).toEqual({ generator: 'wrk', pin: false, notes: ['1 CPU: server and generator not pinned'] });
      expect(chooseGenerator({ generator: 'autocannon', pin: true }, machine(['wrk', 'taskset'])).pin).toBe(true);
      expect(chooseGenerator({ pin: false }, machine(['wrk', 'taskset'])).pin).toBe(false);
    });

    it('pins on a busy host too, saying that a pinned server cannot move away from the other work', () => {
      const choice = chooseGenerator({}, machine(['wrk', 'taskset'], 2, 12.4));
      expect(choice.pin).toBe(true);
      expect(choice.notes).toEqual([
        "load average 12.4: other processes share the server's CPU, and pinned it cannot move away from them; its figures suffer more than unpinned (--no-pin)",
      ]);
      expect(chooseGenerator({ pin: false }, machine(['wrk', 'taskset'], 2, 12.4)).notes).toEqual([]);
    });
  });

  describe('wrk with tools/bench/wrk-bodies.lua, against a local server', () => {
    let server: Server;
    let url: string;
    const received: { method: string; body: string; key: string | undefined }[] = [];
    let workDir: string;

    beforeAll(async () => {
      workDir = mkdtempSync(join(tmpdir(), 'load-generator-spec-'));
      server = createServer((request, response) => {
        let body = '';
        request.on('data', (chunk: Buffer) => (body += chunk.toString()));
        request.on('end', () => {
          received.push({ method: request.method ?? '', body, key: request.headers['x-environment-key'] as string | undefined });
          response.statusCode = body.includes('"fail-') ? 503 : 200;
          response.end('{}');
        });
      });
      await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });

    afterAll(async () => {
      await new Promise((resolveClose) => server.close(resolveClose));
      rmSync(workDir, { recursive: true, force: true });
    });

    it('sends every number from 0 once, rotating the bodies, with the headers, and counts failures', async () => {
      if (!hasWrk()) {
        console.log('skipped: wrk is not installed (apt-get install wrk)');
        return;
      }
      received.length = 0;
      const outcome = await runTimedLoad(
        {
          url,
          method: 'POST',
          path: '/api/v1/identities/',
          headers: { 'x-environment-key': 'ser.key', 'content-type': 'application/json' },
          connections: 4,
          duration: 1,
          bodies: { count: 3, at: (index) => (index === 2 ? '{"identifier":"fail-{{n}}"}' : `{"identifier":"id-{{n}}","t":${index}}`) },
        },
        { generator: 'wrk', pin: false, notes: [] },
        workDir,
      );
      expect(outcome.generator).toBe('wrk');
      expect(received.length).toBeGreaterThan(100);
      expect(received.every((request) => request.method === 'POST' && request.key === 'ser.key')).toBe(true);
      const numbers = received.map((request) => Number(/-(\d+)"/.exec(request.body)?.[1]));
      expect(new Set(numbers).size).toBe(numbers.length);
      // Every number below sentBelow reached the server, each with body (n mod 3).
      const seen = new Map(received.map((request, index) => [numbers[index] as number, request.body]));
      for (let n = 0; n < outcome.sentBelow; n++) {
        const expected = n % 3 === 2 ? `{"identifier":"fail-${n}"}` : `{"identifier":"id-${n}","t":${n % 3}}`;
        expect(seen.get(n)).toBe(expected);
      }
      expect(outcome.sentBelow).toBeGreaterThan(received.length - 10);
      // A third of the answers were 503: failed, not ok.
      expect(outcome.failed / (outcome.ok + outcome.failed)).toBeCloseTo(1 / 3, 1);
      expect(outcome.latency.p50).toBeGreaterThan(0);
      expect(outcome.latency.p999).toBeGreaterThanOrEqual(outcome.latency.p99);
    });
  });
});
