import { generatedSecret } from '@flagline/observability';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPOSITORY_ROOT } from '../testing/process';
import { startTestApp, type TestApp } from '../testing/http-harness';

/** A generated admin key: the published example keys are refused, as a deployment's would be. */
const ADMIN_KEY_FOR_THE_SPEC = generatedSecret();

/** The shell block of the README's "A walk through the API", as a reader copies it. */
function walkThrough(): string {
  const readme = readFileSync(join(REPOSITORY_ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## A walk through the API'));
  const block = /```sh\n([\s\S]*?)```/.exec(section);
  if (!block?.[1]) throw new Error('README: no shell block under "A walk through the API"');
  return block[1];
}

/** The answers the README prints under its steps (`#   {...}`), with its placeholders as patterns. */
function documentedAnswers(script: string): RegExp[] {
  return script
    .split('\n')
    .filter((line) => line.startsWith('#   {'))
    .map((line) => line.slice(4).replace(/, then .*$/, ''))
    .map((answer) => new RegExp(`^${answer.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/…|<client key>/g, '[^"]+')}$`, 'm'));
}

function runBash(script: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const missing = ['bash', 'curl', 'jq'].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
if (missing.length > 0) console.warn(`README walk-through skipped: ${missing.join(', ')} not installed`);
const describeWithTools = missing.length > 0 ? describe.skip : describe;

describeWithTools('the README walk-through, run as written', () => {
  const ADMIN_API_KEY = ADMIN_KEY_FOR_THE_SPEC;
  let app: TestApp;
  let env: Record<string, string>;

  beforeAll(async () => {
    app = await startTestApp({ env: { ADMIN_API_KEY } });
    env = { PORT: new URL(app.app.url).port, DATA_DIR: app.dataDir, ADMIN_API_KEY };
  });

  afterAll(() => app.dispose());

  it('when the admin key is chosen with ADMIN_API_KEY and DATA_DIR is set, then every step succeeds with the answer the README prints', async () => {
    const script = walkThrough();
    const run = await runBash(script, env);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    const answers = documentedAnswers(script);
    expect(answers.length).toBeGreaterThanOrEqual(10);
    for (const answer of answers) expect(run.stdout).toMatch(answer);
  });

  it('when the admin key was generated at first start, then the script reads it from DATA_DIR', async () => {
    const generated = await startTestApp();
    try {
      const run = await runBash(walkThrough(), { PORT: new URL(generated.app.url).port, DATA_DIR: generated.dataDir, ADMIN_API_KEY: '' });
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
      expect(run.stdout).toContain('"segmentName":"power users"');
    } finally {
      await generated.dispose();
    }
  });

  it('when a step fails, then the script stops there with curl naming the status', async () => {
    const run = await runBash(walkThrough(), { ...env, ADMIN_API_KEY: 'not-the-admin-key-0123456789' });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/401/);
    expect(run.stdout).not.toContain('checkout_button');
  });
});
