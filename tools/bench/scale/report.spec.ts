import { parseOptions } from './main';
import { finalJsonLine, formatMeasured, met, median, numberField, percentile, renderTable } from './report';

describe('bench:scale report', () => {
  it('takes the nearest-rank percentile and the median', () => {
    const values = Array.from({ length: 100 }, (_, index) => 100 - index);
    expect(percentile(values, 0.99)).toBe(99);
    expect(percentile(values, 0.5)).toBe(50);
    expect(percentile([3.2], 0.99)).toBe(3.2);
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow('no values');
  });

  it('reads the last JSON object line of a command, skipping progress and log lines', () => {
    const output = 'rebuild [====] 100% | ETA 0s\n{"events":10,"seconds":1}\n{not json\nrebuilt from 10 events\n{"events":1000000,"seconds":8.5}\n\n';
    const line = finalJsonLine(output);
    expect(line).toEqual({ events: 1_000_000, seconds: 8.5 });
    expect(numberField(line, 'eventsPerSecond', 'events')).toBe(1_000_000);
    expect(numberField(line, 'missing')).toBeUndefined();
    expect(finalJsonLine('no json here\n[1,2]')).toBeUndefined();
  });

  it('judges a figure against its target only when it has a value', () => {
    const target = { text: '<= 600', met: (value: number) => value <= 600 };
    expect(met({ target }, { value: 512 })).toBe('yes');
    expect(met({ target }, { value: 601 })).toBe('no');
    expect(met({ target }, { value: null, note: 'n/a (no rebuild command)' })).toBe('-');
    expect(met({}, { value: 5 })).toBe('-');
    expect(formatMeasured({ digits: 2 }, { value: 1234.5678 })).toBe('1,234.57');
    expect(formatMeasured({ digits: 0 }, { value: 3, note: 'of 200' })).toBe('3 (of 200)');
    expect(formatMeasured({ digits: 0 }, { value: null, note: 'n/a (no rebuild command)' })).toBe('n/a (no rebuild command)');
    const long = formatMeasured({ digits: 0 }, { value: 1, note: `admin catalog: catalog.sqlite differs from a rebuild: ${'x'.repeat(80)}` });
    expect(long).toMatch(/^1 \(admin catalog: catalog\.sqlite differs .*…\)$/);
    expect(long.length).toBeLessThan(60);
  });

  it('prints one row per figure with both columns and whether the last meets the target', () => {
    const table = renderTable([
      { title: 'before', results: { 'load.rss': { value: 5100 } } },
      { title: 'now', results: { 'load.rss': { value: 480 } } },
    ]);
    const row = table.split('\n').find((line) => line.startsWith('1. RSS after loading'));
    expect(row?.split('|').map((cell) => cell.trim())).toEqual(['1. RSS after loading (MB)', '5,100', '480', '<= 600', 'yes']);
    expect(table.split('\n')[0]).toMatch(/^figure\s+\| before\s+\| now\s+\| target\s+\| met$/);
  });
});

describe('bench:scale options', () => {
  it('defaults to the issue figures against 71022cc', () => {
    expect(parseOptions([])).toMatchObject({ identities: 1_000_000, beforeIdentities: 1_000_000, before: '71022cc', features: 3_000, connections: 50, builds: ['before', 'now'] });
  });

  it('sizes the before build on its own and can skip it', () => {
    expect(parseOptions(['--identities', '200_000', '--before-identities', '20000', '--before', 'none'])).toMatchObject({ identities: 200_000, beforeIdentities: 20_000, before: null });
  });

  it('names the bad option', () => {
    expect(() => parseOptions(['--identities', 'lots'])).toThrow('--identities must be a positive integer');
    expect(() => parseOptions(['--only', 'identities,replay'])).toThrow('unknown scenario replay');
    expect(() => parseOptions(['--features', '15'])).toThrow('--features must be at least 10 + --window');
    expect(() => parseOptions(['--builds', 'later'])).toThrow('--builds');
  });
});
