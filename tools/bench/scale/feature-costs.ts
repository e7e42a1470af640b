import type { Build } from './builds';
import { poll } from './processes';
import { median, percentile, type Results } from './report';
import { StandaloneServer } from './standalone';

export interface FeatureOptions {
  /** F: the project size of the second point (3,000 in the issue). */
  readonly features: number;
  /** Operations measured around each point (the median is reported). */
  readonly window: number;
  readonly log: (line: string) => void;
}

interface Created {
  id: number;
}

interface Timed {
  /** From sending the admin request to the evaluation API serving the change. */
  readonly total: number;
  /** From the admin answer to the evaluation API serving the change. */
  readonly propagation: number;
}

const OP_TIMEOUT_MS = 30_000;

/**
 * Figure 5 on a fresh data directory: a project with 3 environments; the cost of creating a
 * feature and of toggling one, each timed from the admin request until GET /api/v1/flags/?feature=
 * (client key of the last environment) serves it, around 10 features and around F features.
 */
export async function measureFeatures(build: Build, dataDir: string, adminKey: string, logFile: string, options: FeatureOptions, results: Results): Promise<void> {
  const { log } = options;
  const server = await StandaloneServer.start(build, dataDir, adminKey, logFile);
  try {
    await server.waitHealthy(60_000);
    const { admin } = server;
    const organisation = await admin.call<Created>('POST', '/organisations', { name: 'Features at scale' });
    const project = await admin.call<Created>('POST', '/projects', { organisation: organisation.id, name: 'Big project' });
    const environments: (Created & { apiKey: string })[] = [];
    for (const name of ['Development', 'Staging', 'Production']) {
      environments.push(await admin.call<Created & { apiKey: string }>('POST', `/projects/${project.id}/environments`, { name }));
    }
    const watched = environments[2] as Created & { apiKey: string };

    const served = async (name: string, enabled?: boolean): Promise<true | undefined> => {
      const response = await fetch(`${server.url}/api/v1/flags/?feature=${encodeURIComponent(name)}`, { headers: { 'x-environment-key': watched.apiKey } });
      if (!response.ok) {
        await response.arrayBuffer();
        return undefined;
      }
      const flag = (await response.json()) as { enabled?: boolean };
      return enabled === undefined || flag.enabled === enabled ? true : undefined;
    };
    const timed = async (write: () => Promise<unknown>, name: string, enabled?: boolean): Promise<Timed> => {
      const start = performance.now();
      await write();
      const answered = performance.now();
      await poll(() => served(name, enabled), `feature ${name} served`, OP_TIMEOUT_MS, 0);
      const end = performance.now();
      return { total: end - start, propagation: end - answered };
    };

    const features: (Created & { name: string })[] = [];
    const nextName = (): string => `feature_${String(features.length + 1).padStart(5, '0')}`;
    const create = async (): Promise<void> => {
      const name = nextName();
      const feature = await admin.call<Created>('POST', `/projects/${project.id}/features`, { name, defaultEnabled: false, initialValue: `v${features.length}` });
      features.push({ id: feature.id, name });
    };
    const createTimed = (): Promise<Timed> => timed(create, nextName());

    // The same feature (the 5th) is toggled at both points, in the watched environment.
    let enabled = false;
    const toggle = (): Promise<Timed> => {
      const feature = features[4] as Created & { name: string };
      enabled = !enabled;
      return timed(() => admin.call('PATCH', `/environments/${watched.id}/feature-states/${feature.id}`, { enabled }), feature.name, enabled);
    };

    /** Creates untimed up to half a window before `at`, times the creates of the window around it and the toggles at exactly `at` features. */
    const half = Math.floor(options.window / 2);
    const around = async (at: number): Promise<{ creates: Timed[]; toggles: Timed[] }> => {
      const creates: Timed[] = [];
      const toggles: Timed[] = [];
      let reported = performance.now();
      while (features.length < at - half) {
        await create();
        if (performance.now() - reported > 10_000) {
          reported = performance.now();
          log(`  ${features.length.toLocaleString('en')} features`);
        }
      }
      while (features.length < at) creates.push(await createTimed());
      for (let index = 0; index < options.window; index++) toggles.push(await toggle());
      while (creates.length < options.window) creates.push(await createTimed());
      return { creates, toggles };
    };

    log(`features: around 10 …`);
    const small = await around(10);
    log(`features: up to ${options.features.toLocaleString('en')} …`);
    const big = await around(options.features);
    const create10 = median(small.creates.map((op) => op.total));
    const createN = median(big.creates.map((op) => op.total));
    const toggle10 = median(small.toggles.map((op) => op.total));
    const toggleN = median(big.toggles.map((op) => op.total));
    results['features.create10'] = { value: create10 };
    results['features.createN'] = { value: createN };
    results['features.createRatio'] = { value: createN / create10 };
    results['features.toggle10'] = { value: toggle10 };
    results['features.toggleN'] = { value: toggleN };
    results['features.toggleRatio'] = { value: toggleN / toggle10 };
    results['features.propagationP99'] = { value: percentile([...big.creates, ...big.toggles].map((op) => op.propagation), 0.99) };
    log(`  create ${create10.toFixed(1)} → ${createN.toFixed(1)} ms, toggle ${toggle10.toFixed(1)} → ${toggleN.toFixed(1)} ms`);
  } finally {
    await server.stop();
  }
}
