import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchIdentities } from './fixture';
import { forkPeer } from './peers/fork-peer';
import { chooseGenerator, describeChoice, pinProcess, runTimedLoad, SERVER_CPU, type TimedLoad } from './load-generator';
import { steadyAgainstFirstMinute } from './steadiness';
import { freePort, transientBodies } from './support';

const HELP = `The host's own drift, as the steadiness section of \`npm run bench\` meets it: two identical
bare node:http servers (tools/bench/peers/bare-server.ts, the bench's ceiling, answering the same
fixed body), pinned to the server's CPU as the bench pins the app, each loaded in turn in slices
of the same length, with the steadiness section's load (transient identify bodies, a new
identifier on every request, 32 connections, wrk on the generator's CPU). Neither keeps any state
between requests, so whatever moves their rates is the host. Prints each window's rate of both,
each against its first minute by the steadiness rule (every window after the first minute within
10 %), and their ratio against its first minute.

  node -r @swc-node/register tools/bench/host-drift.ts [--seconds 300] [--window 30] [--slice 5] [--connections 32] [--answer-bytes 6578]`;

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  const value = at === -1 ? fallback : Number(process.argv[at + 1]);
  if (!(value > 0)) throw new Error(`${name} needs a positive number`);
  return value;
}

/** A JSON answer of about `bytes` bytes, shaped like an identify answer (flags, then traits). */
function answerBody(bytes: number): Buffer {
  const flags: string[] = [];
  for (let index = 0, length = 0; length < bytes - 64; index++) {
    const flag = JSON.stringify({ feature: { id: index, name: `feature_${index}`, type: 'STANDARD' }, enabled: index % 2 === 0, feature_state_value: `value-${index}` });
    flags.push(flag);
    length += flag.length + 1;
  }
  return Buffer.from(`{"flags":[${flags.join(',')}],"traits":[]}`);
}

async function main(): Promise<number> {
  if (process.argv.includes('--help')) {
    console.log(HELP);
    return 0;
  }
  const seconds = option('--seconds', 300);
  const windowSeconds = option('--window', 30);
  const sliceSeconds = option('--slice', 5);
  const connections = option('--connections', 32);
  const answerBytes = option('--answer-bytes', 6578);
  const choice = chooseGenerator({});
  for (const note of choice.notes) console.log(`load generator: ${note}`);
  const dir = await mkdtemp(join(tmpdir(), 'flagline-host-drift-'));
  const servers: ChildProcess[] = [];
  try {
    const bodyFile = join(dir, 'answer.json');
    await writeFile(bodyFile, answerBody(answerBytes));
    const ports = [await freePort(), await freePort()];
    for (const port of ports) {
      const server = await forkPeer('bare-server.ts', [String(port), bodyFile], (child) => servers.push(child));
      if (choice.pin && server.pid !== undefined) pinProcess(server.pid, SERVER_CPU);
    }
    const bodies = transientBodies(benchIdentities(1000), 'drift-{{n}}-');
    const loadOf = (port: number | undefined): TimedLoad => ({
      url: `http://127.0.0.1:${port ?? 0}`,
      method: 'POST',
      path: '/api/v1/identities/',
      headers: { 'content-type': 'application/json' },
      connections,
      duration: sliceSeconds,
      bodies: { count: bodies.length, at: (index) => bodies[index] as string },
    });
    const windows = Math.max(1, Math.ceil(seconds / windowSeconds));
    const slices = Math.max(1, Math.round(windowSeconds / sliceSeconds));
    console.log(
      `Two identical bare node:http servers in turn, ${windows} windows of ${windowSeconds} s, each in ${slices} slices of ${sliceSeconds} s per server; ${connections} connections; ${describeChoice(choice)}; answers of ${answerBytes} bytes. Load average at start ${loadavg().map((value) => value.toFixed(2)).join(' ')}.`,
    );
    const rates: [number[], number[]] = [[], []];
    for (let window = 0; window < windows; window++) {
      const sums = [0, 0];
      for (let slice = 0; slice < slices; slice++) {
        for (const server of [0, 1] as const) {
          const outcome = await runTimedLoad(loadOf(ports[server]), choice, dir);
          if (outcome.failed > 0) throw new Error(`${outcome.failed} requests failed on bare server ${server + 1}`);
          sums[server] = (sums[server] as number) + outcome.ok / outcome.seconds;
        }
      }
      for (const server of [0, 1] as const) rates[server].push((sums[server] as number) / slices);
      console.log(`window ${window + 1}/${windows}: ${Math.round(rates[0][window] as number)} and ${Math.round(rates[1][window] as number)} req/s`);
    }
    const percent = (change: number): string => `${change > 0 ? '+' : ''}${(change * 100).toFixed(1)} %`;
    const ratios = rates[0].map((rate, index) => rate / (rates[1][index] as number));
    const verdicts = [...rates, ratios].map((series) => steadyAgainstFirstMinute(series, windowSeconds));
    const header = Array.from({ length: windows }, (_, index) => `${index * windowSeconds}–${(index + 1) * windowSeconds} s`);
    const row = (name: string, values: readonly number[], digits: number): string => `| ${name} | ${values.map((value) => value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })).join(' | ')} |`;
    console.log(
      [
        '',
        `| window | ${header.join(' | ')} |`,
        `|---|${header.map(() => '---:').join('|')}|`,
        row('bare server 1, req/s', rates[0], 0),
        row('bare server 2, req/s', rates[1], 0),
        row('1 ÷ 2', ratios, 3),
        '',
        ...(['bare server 1', 'bare server 2', '1 ÷ 2'] as const).map((name, index) => {
          const verdict = verdicts[index] as (typeof verdicts)[number];
          return `${name} against its first minute: the last window ${percent(verdict.last)}, the farthest ${percent(verdict.farthest)} (${verdict.within ? 'every window within 10 %' : 'not every window within 10 %'}).`;
        }),
        `Load average at the end ${loadavg().map((value) => value.toFixed(2)).join(' ')}.`,
      ].join('\n'),
    );
    return 0;
  } finally {
    for (const server of servers) server.kill();
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
