import { generatedSecret } from '@flagline/observability';
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { captureGoldenState, writeGoldenLog } from './golden-log';
import { startTestApp, tempDataDir } from './http-harness';

/** A generated admin key: the published example keys are refused, as a deployment's would be. */
const ADMIN_KEY_FOR_THE_SPEC = generatedSecret();

/**
 * Writes the golden log fixture: `node -r @swc-node/register apps/standalone/src/testing/golden-log.writer.ts <fixture dir>`.
 * Starts the app on a fresh data directory, drives every event type through the API, restarts it
 * (so the answers are those of a replayed log), records the answers, and copies the log out.
 */
async function main(): Promise<void> {
  const target = resolve(process.argv[2] ?? 'apps/standalone/src/sdk/fixtures/log-2026-12-05');
  const dataDir = await tempDataDir('flagline-golden-');
  const env = { ADMIN_API_KEY: ADMIN_KEY_FOR_THE_SPEC };
  const first = await startTestApp({ dataDir, env });
  const setup = await writeGoldenLog(first);
  await first.stop();
  const second = await startTestApp({ dataDir, env });
  const state = await captureGoldenState(second, setup);
  await second.stop();
  await rm(target, { recursive: true, force: true });
  await mkdir(target, { recursive: true });
  await cp(join(dataDir, 'events', 'events.log'), join(target, 'events', 'events.log'));
  await writeFile(join(target, 'setup.json'), `${JSON.stringify(setup, null, 2)}\n`);
  await writeFile(join(target, 'expected.json'), `${JSON.stringify(state, null, 2)}\n`);
  await rm(dataDir, { recursive: true, force: true });
  console.log(`golden log written to ${target}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
