import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExportInterruptedError, exportToFile, type ExportOptions } from './export-events';
import { resumePoint } from './export-file';

const HEADER = 'position,recordedAt,type,data\n';
const row = (position: number): string => `${position},2026-12-06T02:00:00.000Z,FeatureCreated,"{""name"":""a,b""}"\n`;
/** A row whose quoted field holds a newline: a record is not a line. */
const multiline = (position: number): string => `${position},2026-12-06T02:00:00.000Z,FeatureCreated,"{""name"":""line\nbreak""}"\n`;

/** Serves one CSV export: the rows after `?after=`, cut off mid-record after `cutAfter` rows when set. */
function exportServer(rows: readonly string[], cutAfter?: number): Promise<{ server: Server; url: string; queries: URLSearchParams[] }> {
  const queries: URLSearchParams[] = [];
  const server = createServer((request, response) => {
    const query = new URL(request.url ?? '/', 'http://x').searchParams;
    queries.push(query);
    const after = Number(query.get('after') ?? 0);
    const rest = rows.filter((text) => Number(text.split(',')[0]) > after);
    response.writeHead(200, { 'content-type': 'text/csv', 'x-flagline-position': '5', 'x-flagline-export-after': String(after) });
    response.write(HEADER);
    if (cutAfter === undefined) {
      response.end(rest.join(''));
      return;
    }
    response.write(rest.slice(0, cutAfter).join('') + (rest[cutAfter] ?? '').slice(0, 12));
    setTimeout(() => response.destroy(), 20);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, queries })));
}

describe('npm run export', () => {
  let dir: string;
  const rows = [row(1), multiline(2), row(3), row(4), row(5)];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flagline-export-cli-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const options = (url: string, out: string, resume: boolean): ExportOptions => ({ url, key: 'k'.repeat(20), out, format: 'csv', query: { types: 'FeatureCreated' }, replayable: false, resume });

  it('when the connection drops mid-record, then it says where the file stops, and --resume completes it without a second header', async () => {
    const out = join(dir, 'cut.csv');
    const cut = await exportServer(rows, 3);
    try {
      const failure = await exportToFile(options(cut.url, out, false)).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ExportInterruptedError);
      expect((failure as ExportInterruptedError).position).toBe(3);
      expect(cut.queries[0]?.get('types')).toBe('FeatureCreated');
    } finally {
      cut.server.close();
    }
    const whole = await exportServer(rows);
    try {
      const outcome = await exportToFile(options(whole.url, out, true));
      expect(whole.queries[0]?.get('after')).toBe('3');
      expect(outcome).toMatchObject({ records: 2, position: 5, head: 5 });
      expect(await readFile(out, 'utf8')).toBe(HEADER + rows.join(''));
    } finally {
      whole.server.close();
    }
  });

  it('when the file is scanned for its last record, then quoted newlines and a cut-off tail are told apart', async () => {
    const file = join(dir, 'scan.csv');
    await writeFile(file, HEADER + row(1) + multiline(2) + '3,2026-12-06T02:00:00.000Z,Feature');
    expect(await resumePoint(file, 'csv')).toEqual({ bytes: Buffer.byteLength(HEADER + row(1) + multiline(2)), position: 2, records: 2 });
    const lines = join(dir, 'scan.ndjson');
    await writeFile(lines, '{"position":7,"id":"a"}\n{"position":9,"id":"b"}\n{"position":12,"id');
    expect(await resumePoint(lines, 'ndjson')).toEqual({ bytes: 48, position: 9, records: 2 });
    await writeFile(lines, '{"id":"not an export"}\n');
    await expect(resumePoint(lines, 'ndjson')).rejects.toThrow(/does not start with a log position/);
  });

  it('when the server refuses the export, then the error body is shown and nothing is written', async () => {
    const server = createServer((_request, response) => {
      response.writeHead(400, { 'content-type': 'application/json' });
      response.end('{"statusCode":400,"errors":[{"field":"types"}]}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const out = join(dir, 'refused.csv');
      await expect(exportToFile(options(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, out, false))).rejects.toThrow(/HTTP 400.*"field":"types"/);
      await expect(readFile(out)).rejects.toThrow(/ENOENT/);
    } finally {
      server.close();
    }
  });
});
