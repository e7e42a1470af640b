import { ADMIN, arr, expectStatus, num, obj, startTestApp, str, type ApiClient, type ApiResponse, type Json, type TestApp } from '../../testing/http-harness';

/**
 * The world every SDK spec evaluates, set up only through the admin API. The expectations of the
 * specs are derived from these constants, never from what the evaluation service answers.
 */
export const STOREFRONT = {
  features: {
    /** Plain default: enabled, a string value. */
    welcome: { name: 'welcome_message', enabled: true, value: 'Hello' },
    /** Overridden for the `pro_customers` segment and for the VIP identity. */
    checkout: { name: 'checkout_flow', enabled: true, value: 'classic', segmentValue: 'express', vipValue: 'concierge' },
    /** Disabled by default; on for the `early_adopters` percentage split. No value: a plain on/off flag. */
    dashboard: { name: 'new_dashboard', enabled: false },
    /** Multivariate: 30 % red, 30 % blue, the remaining 40 % keep the control value. */
    colour: {
      name: 'button_colour',
      enabled: true,
      control: 'grey',
      variants: [
        { key: 'red', value: 'red', percentage: 30 },
        { key: 'blue', value: 'blue', percentage: 30 },
      ],
    },
    /** A number, overridden for `pro_customers`. */
    maxItems: { name: 'max_items', enabled: true, value: 10, segmentValue: 50 },
    /** Disabled with a value. */
    legacyExport: { name: 'legacy_export', enabled: false, value: 'csv' },
    /** Only server-side keys see it. */
    internal: { name: 'internal_tools', enabled: true, value: 'on' },
  },
  segments: {
    pro: { name: 'pro_customers', trait: 'plan', equals: 'pro' },
    earlyAdopters: { name: 'early_adopters', percentage: 25 },
  },
  vip: { identifier: 'vip-user' },
} as const;

export type FeatureKey = keyof typeof STOREFRONT.features;

export interface Storefront {
  readonly t: TestApp;
  readonly admin: ApiClient;
  /** SDK base URL as Flagsmith SDKs take it (`…/api/v1/`). */
  readonly apiUrl: string;
  readonly organisationId: number;
  readonly projectId: number;
  readonly environmentId: number;
  /** The environment's client-side key. */
  readonly clientKey: string;
  /** A server-side key (`ser.…`). */
  readonly serverKey: string;
  readonly featureIds: Readonly<Record<FeatureKey, number>>;
  readonly segmentIds: { readonly pro: number; readonly earlyAdopters: number };
  /** Option ids of the multivariate feature, by variant key. */
  readonly colourOptionIds: Readonly<Record<string, number>>;
  /** The multivariate feature's environment state id, the seed its buckets are hashed with. */
  readonly colourStateId: number;
}

const created = (response: ApiResponse): Json => expectStatus(response, 201);

/** Starts a fresh standalone app (random port, temp data directory) and sets up the storefront. */
export async function startStorefront(name = 'Storefront'): Promise<Storefront> {
  const t = await startTestApp();
  try {
    return await setupStorefront(t, name);
  } catch (error) {
    await t.dispose();
    throw error;
  }
}

async function setupStorefront(t: TestApp, name: string): Promise<Storefront> {
  const admin = t.admin;
  const { features: f, segments: s } = STOREFRONT;
  const organisationId = num(created(await admin.post(`${ADMIN}/organisations`, { name })), 'id');
  const projectId = num(created(await admin.post(`${ADMIN}/projects`, { organisation: organisationId, name: `${name} shop` })), 'id');
  const environment = obj(created(await admin.post(`${ADMIN}/projects/${projectId}/environments`, { name: 'Production' })));
  const environmentId = num(environment, 'id');
  const clientKey = str(environment, 'apiKey');
  const serverKey = str(created(await admin.post(`${ADMIN}/environments/${environmentId}/api-keys`, { name: 'backend' })), 'key');

  const createFeature = async (body: Record<string, unknown>): Promise<Json> => created(await admin.post(`${ADMIN}/projects/${projectId}/features`, body));
  const welcome = num(await createFeature({ name: f.welcome.name, defaultEnabled: f.welcome.enabled, initialValue: f.welcome.value }), 'id');
  const checkout = num(await createFeature({ name: f.checkout.name, defaultEnabled: f.checkout.enabled, initialValue: f.checkout.value }), 'id');
  const dashboard = num(await createFeature({ name: f.dashboard.name, defaultEnabled: f.dashboard.enabled }), 'id');
  const colourBody = await createFeature({
    name: f.colour.name,
    type: 'MULTIVARIATE',
    defaultEnabled: f.colour.enabled,
    initialValue: f.colour.control,
    multivariateOptions: f.colour.variants.map((variant) => ({ value: variant.value, key: variant.key, defaultPercentageAllocation: variant.percentage })),
  });
  const colour = num(colourBody, 'id');
  const colourOptionIds: Record<string, number> = {};
  for (const option of arr(obj(colourBody)['multivariateOptions'])) colourOptionIds[str(option, 'key')] = num(option, 'id');
  const maxItems = num(await createFeature({ name: f.maxItems.name, defaultEnabled: f.maxItems.enabled, initialValue: f.maxItems.value }), 'id');
  const legacyExport = num(await createFeature({ name: f.legacyExport.name, defaultEnabled: f.legacyExport.enabled, initialValue: f.legacyExport.value }), 'id');
  const internal = num(await createFeature({ name: f.internal.name, defaultEnabled: f.internal.enabled, initialValue: f.internal.value, isServerKeyOnly: true }), 'id');

  // The environment's allocations are set explicitly, not left to the options' defaults.
  expectStatus(
    await admin.patch(`${ADMIN}/environments/${environmentId}/feature-states/${colour}`, {
      enabled: f.colour.enabled,
      multivariateAllocations: f.colour.variants.map((variant) => ({ optionId: colourOptionIds[variant.key], percentage: variant.percentage })),
    }),
    200,
  );

  const colourStateId = num(expectStatus(await admin.get(`${ADMIN}/environments/${environmentId}/feature-states/${colour}`), 200), 'featureStateId');

  const createSegment = async (segmentName: string, conditions: readonly Record<string, unknown>[]): Promise<number> =>
    num(created(await admin.post(`${ADMIN}/projects/${projectId}/segments`, { name: segmentName, rules: [{ type: 'ALL', conditions, rules: [] }] })), 'id');
  const pro = await createSegment(s.pro.name, [{ property: s.pro.trait, operator: 'EQUAL', value: s.pro.equals }]);
  const earlyAdopters = await createSegment(s.earlyAdopters.name, [{ operator: 'PERCENTAGE_SPLIT', value: s.earlyAdopters.percentage }]);

  const override = async (feature: number, segment: number, enabled: boolean, value?: string | number): Promise<void> => {
    created(await admin.post(`${ADMIN}/environments/${environmentId}/segment-overrides`, { feature, segment, enabled, ...(value !== undefined ? { value } : {}) }));
  };
  await override(checkout, pro, true, f.checkout.segmentValue);
  await override(maxItems, pro, true, f.maxItems.segmentValue);
  await override(dashboard, earlyAdopters, true);

  created(await admin.post(`${ADMIN}/environments/${environmentId}/identities`, { identifier: STOREFRONT.vip.identifier }));
  expectStatus(
    await admin.put(`${ADMIN}/environments/${environmentId}/identities/${encodeURIComponent(STOREFRONT.vip.identifier)}/overrides/${checkout}`, {
      enabled: true,
      value: f.checkout.vipValue,
    }),
    200,
  );

  return {
    t,
    admin,
    apiUrl: `${t.app.url}/api/v1/`,
    organisationId,
    projectId,
    environmentId,
    clientKey,
    serverKey,
    featureIds: { welcome, checkout, dashboard, colour, maxItems, legacyExport, internal },
    segmentIds: { pro, earlyAdopters },
    colourOptionIds,
    colourStateId,
  };
}
