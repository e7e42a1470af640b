import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ReferenceEngine } from './reference-engine';
import { REFERENCE_ENGINE_VERSION } from './reference-venv';

// The environment is made by `npm run conformance:oracle`; unit tests do not install from PyPI.
const python = resolve(__dirname, '..', '..', '..', '.venv', 'oracle', 'bin', 'python');
const available = existsSync(python);
if (!available) console.log(`reference engine specs skipped: no ${python} (run npm run conformance:oracle once to create it)`);
const describeWithPython = available ? describe : describe.skip;

const context = (value: string, extra = '') =>
  `{"environment":{"key":"k","name":"n"},"identity":{"identifier":"a"},"features":{"f":{"key":"1","name":"f","enabled":true,"value":${value}${extra}}}}`;

describeWithPython('ReferenceEngine', () => {
  let engine: ReferenceEngine;
  beforeAll(async () => {
    engine = await ReferenceEngine.start(python);
  });
  afterAll(() => engine.close());

  it('reports its version and evaluates a context with Flagsmith 11.1.1 semantics', async () => {
    expect(engine.version).toBe(REFERENCE_ENGINE_VERSION);
    expect(engine.pythonVersion).toMatch(/^3\.\d+\.\d+/);
    await expect(engine.evaluate(context('"x"'))).resolves.toEqual({
      result: { flags: { f: { name: 'f', enabled: true, value: 'x', reason: 'STATIC', variant: null } }, segments: [] },
    });
  });

  it('answers in request order with many contexts in flight, integral floats tagged', async () => {
    const answers = await Promise.all([1, 2, 3, 4, 5].map((value) => engine.evaluate(context(`${value}.0`))));
    expect(answers.map((answer) => ('result' in answer ? (answer.result as { flags: { f: { value: unknown } } }).flags.f.value : answer))).toEqual(
      [1, 2, 3, 4, 5].map((value) => ({ $float: value })),
    );
  });

  it('reports what the engine raised for one context and goes on with the next', async () => {
    await expect(engine.evaluate('{"environment": ')).resolves.toMatchObject({ error: expect.stringMatching(/^JSONDecodeError/) });
    const weights = ',"variants":[{"value":"v","weight":100,"priority":1}]';
    await expect(engine.evaluate(context('"x"', weights))).resolves.toMatchObject({ result: { flags: { f: { reason: 'SPLIT; weight=100', value: 'v' } } } });
  });

  it('refuses a context written over several lines', async () => {
    await expect(engine.evaluate('{\n}')).rejects.toThrow('one line');
  });
});
