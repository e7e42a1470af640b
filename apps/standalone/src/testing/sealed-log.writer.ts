import { generatedSecret } from '@flagline/observability';
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { KEYS_FILE } from '../sealing';
import { ADMIN, expectStatus, num, obj, str, startTestApp, tempDataDir } from './http-harness';

/** A generated admin key: the published example keys are refused, as a deployment's would be. */
const ADMIN_KEY_FOR_THE_SPEC = generatedSecret();

/** What the sealed-log fixture's spec reads it with. */
export interface SealedLogSetup {
  readonly environmentId: number;
  readonly clientKey: string;
  /** Identities that stay, with their traits as the admin API shows them. */
  readonly kept: Readonly<Record<string, Record<string, string | number | boolean>>>;
  /** The identity erased, and the texts (identifier, trait values) it carried. */
  readonly erased: { readonly identifier: string; readonly texts: readonly string[] };
}

/**
 * Writes the sealed-log fixture: `node -r @swc-node/register apps/standalone/src/testing/sealed-log.writer.ts <fixture dir>`.
 * Identities created through the admin API and the SDK API, one of them changed, overridden and
 * erased; then the log and the key file are copied out with the app stopped.
 */
async function main(): Promise<void> {
  const target = resolve(process.argv[2] ?? 'apps/standalone/src/sdk/fixtures/sealed-log-2026-12-06');
  const dataDir = await tempDataDir('flagline-sealed-');
  const t = await startTestApp({ dataDir, env: { ADMIN_API_KEY: ADMIN_KEY_FOR_THE_SPEC } });
  const organisationId = num(expectStatus(await t.admin.post(`${ADMIN}/organisations`, { name: 'Sealed' }), 201), 'id');
  const projectId = num(expectStatus(await t.admin.post(`${ADMIN}/projects`, { organisation: organisationId, name: 'Sealed project' }), 201), 'id');
  const environment = obj(expectStatus(await t.admin.post(`${ADMIN}/projects/${projectId}/environments`, { name: 'Production' }), 201));
  const environmentId = num(environment, 'id');
  const clientKey = str(environment, 'apiKey');
  const featureId = num(expectStatus(await t.admin.post(`${ADMIN}/projects/${projectId}/features`, { name: 'checkout', initialValue: 'v1' }), 201), 'id');
  const identities = `${ADMIN}/environments/${environmentId}/identities`;
  expectStatus(await t.admin.post(identities, { identifier: 'kept-otter@example.com', traits: { plan: 'pro', nickname: 'otter-kept-4821' } }), 201);
  const identify = await fetch(`${t.app.url}/api/v1/identities/`, {
    method: 'POST',
    headers: { 'x-environment-key': clientKey, 'content-type': 'application/json' },
    body: JSON.stringify({ identifier: 'sdk-heron@example.com', traits: [{ trait_key: 'nickname', trait_value: 'heron-sdk-7315' }] }),
  });
  if (identify.status !== 200) throw new Error(`identify answered ${identify.status}`);
  const erased = 'erased-lynx@example.com';
  expectStatus(await t.admin.post(identities, { identifier: erased, traits: { nickname: 'lynx-erased-9056' } }), 201);
  expectStatus(await t.admin.patch(`${identities}/${encodeURIComponent(erased)}/traits`, { traits: { city: 'lynx-city-3390' } }), 200);
  expectStatus(await t.admin.put(`${identities}/${encodeURIComponent(erased)}/overrides/${featureId}`, { enabled: true, value: 'lynx-override' }), 200);
  expectStatus(await t.admin.post(`${identities}/${encodeURIComponent(erased)}/erase`), 204);
  await t.stop();
  const setup: SealedLogSetup = {
    environmentId,
    clientKey,
    kept: { 'kept-otter@example.com': { nickname: 'otter-kept-4821', plan: 'pro' }, 'sdk-heron@example.com': { nickname: 'heron-sdk-7315' } },
    erased: { identifier: erased, texts: [erased, 'lynx-erased-9056', 'lynx-city-3390'] },
  };
  await rm(target, { recursive: true, force: true });
  await mkdir(join(target, 'events'), { recursive: true });
  await cp(join(dataDir, 'events', 'events.log'), join(target, 'events', 'events.log'));
  await cp(join(dataDir, KEYS_FILE), join(target, KEYS_FILE));
  await writeFile(join(target, 'setup.json'), `${JSON.stringify(setup, null, 2)}\n`);
  await rm(dataDir, { recursive: true, force: true });
  console.log(`sealed log written to ${target}`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
