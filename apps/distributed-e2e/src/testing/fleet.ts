import { type AdminClient, numberAt, stringAt } from './http';

export interface FleetEnvironment {
  readonly id: number;
  readonly clientKey: string;
  readonly projectId: number;
  /** The project's segment, overridden for the first feature in every environment. */
  readonly segmentId: number;
  readonly features: readonly { readonly id: number; readonly name: string }[];
  readonly identifiers: readonly string[];
}

export interface Fleet {
  readonly environments: readonly FleetEnvironment[];
}

/**
 * Several projects with several environments each, so events spread over projects (Kafka
 * partitions, projector checkpoints) and environments: every project has features, a segment
 * overridden in each environment, and every environment a few identities with traits.
 */
export async function createFleet(admin: AdminClient, shape: { projects: number; environmentsPerProject: number; featuresPerProject: number; identitiesPerEnvironment: number }): Promise<Fleet> {
  const organisation = numberAt(await admin.ok('POST', '/organisations', { name: 'Fault lab' }), 'id');
  const environments: FleetEnvironment[] = [];
  for (let p = 0; p < shape.projects; p++) {
    const projectId = numberAt(await admin.ok('POST', '/projects', { organisation, name: `project ${p}` }), 'id');
    const features: { id: number; name: string }[] = [];
    for (let f = 0; f < shape.featuresPerProject; f++) {
      const name = `feature_${f}`;
      features.push({ id: numberAt(await admin.ok('POST', `/projects/${projectId}/features`, { name, defaultEnabled: f % 2 === 0, initialValue: `initial-${f}` }), 'id'), name });
    }
    const segment = numberAt(
      await admin.ok('POST', `/projects/${projectId}/segments`, {
        name: 'high scorers',
        rules: [{ type: 'ALL', conditions: [{ property: 'score', operator: 'GREATER_THAN_INCLUSIVE', value: 50 }] }],
      }),
      'id',
    );
    for (let e = 0; e < shape.environmentsPerProject; e++) {
      const environment = await admin.ok('POST', `/projects/${projectId}/environments`, { name: `environment ${e}` });
      const id = numberAt(environment, 'id');
      await admin.ok('POST', `/environments/${id}/segment-overrides`, { feature: (features[0] as { id: number }).id, segment, enabled: true, value: 'high' });
      const identifiers: string[] = [];
      for (let i = 0; i < shape.identitiesPerEnvironment; i++) {
        const identifier = `user-${p}-${e}-${i}`;
        await admin.ok('POST', `/environments/${id}/identities`, { identifier, traits: { score: i * 20, plan: 'free' } });
        identifiers.push(identifier);
      }
      environments.push({ id, clientKey: stringAt(environment, 'apiKey'), projectId, segmentId: segment, features, identifiers });
    }
  }
  return { environments };
}
