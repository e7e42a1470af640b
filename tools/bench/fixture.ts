import type { AdminClient } from './admin-client';

export interface BenchEnvironment {
  readonly projectId: number;
  readonly environmentId: number;
  readonly clientKey: string;
  readonly serverKey: string;
  /** A standard feature the propagation measurement changes. */
  readonly probeFeature: { id: number; name: string };
}

interface Created {
  id: number;
}

/**
 * The benchmark environment: 20 features (3 multivariate) and 5 segments mixing operators (a
 * percentage split, a semver, a regex, IN and numeric comparisons, nested ANY/NONE), with overrides.
 */
export async function createBenchEnvironment(admin: AdminClient): Promise<BenchEnvironment> {
  const organisation = await admin.call<Created>('POST', '/organisations', { name: 'Bench' });
  const project = await admin.call<Created>('POST', '/projects', { organisation: organisation.id, name: 'Storefront' });
  const environment = await admin.call<Created & { apiKey: string }>('POST', `/projects/${project.id}/environments`, { name: 'Production' });
  const serverKey = await admin.call<{ key: string }>('POST', `/environments/${environment.id}/api-keys`, { name: 'bench' });

  const features: (Created & { name: string })[] = [];
  const mv = async (name: string, options: [string, number][]) => {
    const feature = await admin.call<Created & { name: string }>('POST', `/projects/${project.id}/features`, {
      name,
      type: 'MULTIVARIATE',
      defaultEnabled: true,
      initialValue: 'control',
      multivariateOptions: options.map(([value, percentage]) => ({ value, key: value, defaultPercentageAllocation: percentage })),
    });
    features.push(feature);
  };
  await mv('checkout_variant', [['one_page', 30], ['two_step', 30]]);
  await mv('pricing_page', [['annual_first', 20], ['monthly_first', 20], ['calculator', 20]]);
  await mv('banner_color', [['teal', 50], ['orange', 50]]);
  const values: (string | number | boolean | null)[] = ['on', 42, true, 'v2', null, 7, 'eu-west', false, 'dark', 3, 'cards', null, 'json', 250, 'fast', 'A', 99];
  for (let index = 0; index < 17; index++) {
    features.push(
      await admin.call<Created & { name: string }>('POST', `/projects/${project.id}/features`, {
        name: `feature_${String(index + 1).padStart(2, '0')}`,
        defaultEnabled: index % 3 !== 0,
        initialValue: values[index],
      }),
    );
  }

  const segment = (name: string, rules: unknown[]) => admin.call<Created>('POST', `/projects/${project.id}/segments`, { name, rules });
  const segments = [
    await segment('beta_split', [{ type: 'ALL', conditions: [{ property: '', operator: 'PERCENTAGE_SPLIT', value: '30' }] }]),
    await segment('modern_app', [{ type: 'ALL', conditions: [{ property: 'app_version', operator: 'GREATER_THAN_INCLUSIVE', value: '2.0.0:semver' }] }]),
    await segment('staff', [{ type: 'ALL', conditions: [{ property: 'email', operator: 'REGEX', value: '^[a-z0-9.]+@example\\.com$' }] }]),
    await segment('paying', [
      { type: 'ANY', conditions: [{ property: 'plan', operator: 'IN', value: 'pro,enterprise' }, { property: 'seats', operator: 'GREATER_THAN', value: '10' }] },
    ]),
    await segment('adults_outside_eu', [
      {
        type: 'ALL',
        conditions: [{ property: 'age', operator: 'GREATER_THAN_INCLUSIVE', value: '18' }],
        rules: [{ type: 'NONE', conditions: [{ property: 'country', operator: 'IN', value: 'DE,FR,IT,ES' }] }],
      },
    ]),
  ];
  const overrides: [number, number, unknown][] = [
    [0, 3, 'beta-on'],
    [0, 4, 12],
    [1, 5, 'v3'],
    [1, 0, null],
    [2, 6, 'staff-region'],
    [2, 7, true],
    [3, 8, 'light'],
    [3, 9, 10],
    [4, 10, 'list'],
    [4, 12, 'xml'],
  ];
  for (const [segmentIndex, featureIndex, value] of overrides) {
    await admin.call('POST', `/environments/${environment.id}/segment-overrides`, {
      feature: (features[featureIndex] as Created).id,
      segment: (segments[segmentIndex] as Created).id,
      enabled: true,
      value,
    });
  }
  const probe = features[19] as Created & { name: string };
  return {
    projectId: project.id,
    environmentId: environment.id,
    clientKey: environment.apiKey,
    serverKey: serverKey.key,
    probeFeature: { id: probe.id, name: probe.name },
  };
}

/** Identities with 5 traits each, spread over the segments. */
export interface BenchIdentity {
  readonly identifier: string;
  readonly traits: Record<string, string | number>;
}

export function benchIdentities(count: number): BenchIdentity[] {
  const plans = ['free', 'pro', 'enterprise', 'team'];
  const countries = ['DE', 'US', 'FR', 'GB', 'JP', 'ES'];
  return Array.from({ length: count }, (_, index) => ({
    identifier: `user-${index}`,
    traits: {
      email: index % 5 === 0 ? `person${index}@example.com` : `person${index}@mail.test`,
      plan: plans[index % plans.length] as string,
      app_version: `${1 + (index % 3)}.${index % 10}.${index % 7}`,
      age: 14 + (index % 50),
      country: countries[index % countries.length] as string,
    },
  }));
}
