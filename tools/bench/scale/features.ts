/**
 * Writes in a big project: what creating a feature and toggling a feature state cost as the
 * project grows, each timed from the admin request to the moment the evaluation API serves the
 * change (`GET /api/v1/flags/?feature=<name>` with the environment's client key).
 *
 *   node -r @swc-node/register tools/bench/scale/features.ts
 *
 * The standalone app runs in this process on a temporary DATA_DIR. A project with 3 environments
 * gets FEATURES features (default 3,000) created one by one; TOGGLES toggles (default 100) of one
 * feature state are timed at 10 features and again at the end; WINDOW (default 21) creations around
 * the 10th and the last give their median. Set PROFILE=<file.cpuprofile> to
 * record a CPU profile of the last creations and toggles and print the functions that took the
 * most time (open the file in Chrome's DevTools for the whole picture).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Session, type Profiler } from 'node:inspector';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { startStandalone } from '../../../apps/standalone/src/standalone';
import { AdminClient } from '../admin-client';

const FEATURES = Number(process.env['FEATURES'] ?? 3000);
const TOGGLES = Number(process.env['TOGGLES'] ?? 100);
const PROFILE = process.env['PROFILE'];
/** Operations around each measuring point whose median is reported (creation costs are noisy one by one). */
const WINDOW = Number(process.env['WINDOW'] ?? 21);

interface Timing {
  /** Admin request sent to the evaluation API serving the change. */
  readonly total: number;
  /** Admin answer received to the evaluation API serving the change. */
  readonly propagation: number;
}

const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
};
const ms = (value: number): string => `${value.toFixed(2)} ms`;

/** Polls the flag until `served` accepts its answer; resolves with the time it did. */
async function servedAt(url: string, clientKey: string, served: (flag: { enabled: boolean } | null) => boolean): Promise<number> {
  const deadline = performance.now() + 30_000;
  for (;;) {
    const response = await fetch(url, { headers: { 'x-environment-key': clientKey } });
    const flag = response.status === 200 ? ((await response.json()) as { enabled: boolean }) : (await response.arrayBuffer(), null);
    if (served(flag)) return performance.now();
    if (performance.now() > deadline) throw new Error(`${url} never served the change`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function startProfile(): Promise<Session | null> {
  if (!PROFILE) return null;
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object): Promise<void> =>
    new Promise((resolve, reject) => session.post(method, params, (error) => (error ? reject(error) : resolve())));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 200 });
  await post('Profiler.start');
  return session;
}

async function stopProfile(session: Session | null): Promise<void> {
  if (!session || !PROFILE) return;
  const profile = await new Promise<Profiler.Profile>((resolve, reject) =>
    session.post('Profiler.stop', (error, result) => (error ? reject(error) : resolve(result.profile))),
  );
  session.disconnect();
  await writeFile(PROFILE, JSON.stringify(profile));
  // Self time per function, from the samples' intervals.
  const selfTime = new Map<number, number>();
  const deltas = profile.timeDeltas ?? [];
  (profile.samples ?? []).forEach((id, index) => selfTime.set(id, (selfTime.get(id) ?? 0) + (deltas[index] ?? 0)));
  const byFunction = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const time = selfTime.get(node.id) ?? 0;
    total += time;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url.startsWith('file://') ? relative(process.cwd(), url.slice('file://'.length)) : url;
    const key = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + time);
  }
  console.log(`\nCPU profile written to ${PROFILE}; self time of the heaviest functions:`);
  for (const [key, time] of [...byFunction].sort(([, a], [, b]) => b - a).slice(0, 20)) {
    console.log(`  ${((100 * time) / total).toFixed(1).padStart(5)}%  ${key}`);
  }
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'flagline-bench-features-'));
  const adminApiKey = `bench-${randomBytes(12).toString('hex')}`;
  const app = await startStandalone({ port: 0, host: '127.0.0.1', dataDir, adminApiKey, adminEmail: 'bench@flagline.local', adminKeyGenerated: false });
  try {
    const admin = new AdminClient(app.url, adminApiKey);
    const organisation = await admin.call<{ id: number }>('POST', '/organisations', { name: 'Bench' });
    const project = await admin.call<{ id: number }>('POST', '/projects', { organisation: organisation.id, name: 'Big project' });
    const environments: { id: number; apiKey: string }[] = [];
    for (const name of ['Development', 'Staging', 'Production']) {
      environments.push(await admin.call<{ id: number; apiKey: string }>('POST', `/projects/${project.id}/environments`, { name }));
    }
    const target = environments[2] as { id: number; apiKey: string };
    const flagUrl = (name: string): string => `${app.url}/api/v1/flags/?feature=${encodeURIComponent(name)}`;

    const creations: Timing[] = [];
    const featureIds: number[] = [];
    const createFeature = async (index: number): Promise<void> => {
      const name = `feature_${String(index).padStart(5, '0')}`;
      const start = performance.now();
      const feature = await admin.call<{ id: number }>('POST', `/projects/${project.id}/features`, { name, defaultEnabled: index % 2 === 0, initialValue: `v${index}` });
      const answered = performance.now();
      const served = await servedAt(flagUrl(name), target.apiKey, (flag) => flag !== null);
      featureIds.push(feature.id);
      creations.push({ total: served - start, propagation: served - answered });
    };
    const toggles = async (): Promise<Timing[]> => {
      const featureId = featureIds[0] as number;
      const name = 'feature_00001';
      const timings: Timing[] = [];
      let enabled = false;
      for (let round = 0; round < TOGGLES; round++) {
        enabled = !enabled;
        const start = performance.now();
        await admin.call('PATCH', `/environments/${target.id}/feature-states/${featureId}`, { enabled });
        const answered = performance.now();
        const served = await servedAt(flagUrl(name), target.apiKey, (flag) => flag?.enabled === enabled);
        timings.push({ total: served - start, propagation: served - answered });
      }
      return timings;
    };

    const small = Math.max(10 + WINDOW, 40);
    for (let index = 1; index <= Math.min(small, FEATURES); index++) await createFeature(index);
    // The toggle in a small project, at 10 features, needs a project of 10 features: a second one.
    const smallProject = await admin.call<{ id: number }>('POST', '/projects', { organisation: organisation.id, name: 'Small project' });
    const smallEnvironments: { id: number; apiKey: string }[] = [];
    for (const name of ['Development', 'Staging', 'Production']) {
      smallEnvironments.push(await admin.call<{ id: number; apiKey: string }>('POST', `/projects/${smallProject.id}/environments`, { name }));
    }
    const smallTarget = smallEnvironments[2] as { id: number; apiKey: string };
    const smallFeatureIds: number[] = [];
    for (let index = 1; index <= 10; index++) {
      smallFeatureIds.push((await admin.call<{ id: number }>('POST', `/projects/${smallProject.id}/features`, { name: `feature_${String(index).padStart(5, '0')}` })).id);
    }
    const smallToggles: Timing[] = [];
    {
      let enabled = false;
      for (let round = 0; round < TOGGLES; round++) {
        enabled = !enabled;
        const start = performance.now();
        await admin.call('PATCH', `/environments/${smallTarget.id}/feature-states/${smallFeatureIds[0] as number}`, { enabled });
        const answered = performance.now();
        const served = await servedAt(flagUrl('feature_00001'), smallTarget.apiKey, (flag) => flag?.enabled === enabled);
        smallToggles.push({ total: served - start, propagation: served - answered });
      }
    }

    const progressEvery = Math.max(1, Math.floor(FEATURES / 10));
    const startedAt = performance.now();
    let session: Session | null = null;
    for (let index = small + 1; index <= FEATURES; index++) {
      if (index === FEATURES - 200) session = await startProfile();
      await createFeature(index);
      if (index % progressEvery === 0) {
        const recent = creations.slice(-WINDOW).map((t) => t.total);
        process.stderr.write(`  ${index} features, last ${WINDOW}: median ${ms(percentile(recent, 50))}, ${((performance.now() - startedAt) / 1000).toFixed(0)} s\n`);
      }
    }
    const bigToggles = await toggles();
    await stopProfile(session);

    const around = (position: number): number => {
      const from = Math.max(0, Math.min(creations.length - WINDOW, position - 1 - Math.floor(WINDOW / 2)));
      return percentile(creations.slice(from, from + WINDOW).map((t) => t.total), 50);
    };
    const at10 = around(10);
    const atEnd = around(FEATURES);
    const smallToggle = percentile(smallToggles.map((t) => t.total), 50);
    const bigToggle = percentile(bigToggles.map((t) => t.total), 50);
    const lastCreations = creations.slice(-200);
    console.log(`\nWrites in a big project (3 environments; standalone; median of ${WINDOW} creations around each point, ${TOGGLES} toggles)`);
    console.log('| What | Measured | Target |');
    console.log('|---|---|---|');
    console.log(`| Creating the 10th feature, request to served | ${ms(at10)} | |`);
    console.log(`| Creating the ${FEATURES}th feature, request to served | ${ms(atEnd)} (${(atEnd / at10).toFixed(2)}x the 10th) | at most 1.5x |`);
    console.log(`| Toggle at 10 features, request to served (median) | ${ms(smallToggle)} | |`);
    console.log(`| Toggle at ${FEATURES} features, request to served (median) | ${ms(bigToggle)} (${(bigToggle / smallToggle).toFixed(2)}x at 10) | at most 1.5x |`);
    console.log(`| Toggle at ${FEATURES} features, answer to served: p50 / p99 | ${ms(percentile(bigToggles.map((t) => t.propagation), 50))} / ${ms(percentile(bigToggles.map((t) => t.propagation), 99))} | p99 under 20 ms |`);
    console.log(`| Toggle at ${FEATURES} features, request to served: p50 / p99 | ${ms(percentile(bigToggles.map((t) => t.total), 50))} / ${ms(percentile(bigToggles.map((t) => t.total), 99))} | |`);
    console.log(`| Last 200 creations, answer to served: p50 / p99 | ${ms(percentile(lastCreations.map((t) => t.propagation), 50))} / ${ms(percentile(lastCreations.map((t) => t.propagation), 99))} | |`);
    if (!PROFILE) console.log('\nPROFILE=/tmp/features.cpuprofile records a CPU profile of the last 200 creations and the toggles.');
  } finally {
    await app.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
