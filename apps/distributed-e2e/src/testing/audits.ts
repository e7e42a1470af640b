import type { Redis } from 'ioredis';
import type { Admin } from 'kafkajs';
import type { FleetEnvironment } from './fleet';
import { SdkClient } from './http';
import type { Pipeline } from './pipeline';
import { compareWithRebuild, waitForIdle, type IdleReport, type RebuildComparison } from './read-model-audit';
import { eventually } from './wait';

/** How long a pipeline may take to become idle after a fault (catch-up on two busy cores). */
export const IDLE_TIMEOUT_MS = 120_000;

/** An environment's SDK client on the pipeline's first evaluation service. */
export function environmentSdk(pipeline: Pipeline, environment: FleetEnvironment): SdkClient {
  const evaluation = pipeline.evaluations[0];
  if (!evaluation) throw new Error('the pipeline has no evaluation service');
  return new SdkClient(evaluation.url, environment.clientKey);
}

/**
 * Waits for the pipeline to be idle, then expects the live read models (documents and
 * checkpoints) to equal a rebuild from the log byte for byte. `minDocuments`: fewer compared
 * documents than the fleet holds would prove nothing.
 */
export async function expectRebuildEquality(pipeline: Pipeline, redis: Redis, kafkaAdmin: Admin, minDocuments: number): Promise<{ idle: IdleReport; comparison: RebuildComparison }> {
  const idle = await waitForIdle(pipeline, redis, kafkaAdmin, IDLE_TIMEOUT_MS);
  const comparison = await compareWithRebuild(redis, pipeline.dataDir, pipeline.readModelPrefix, pipeline.sealingKeyPrefix);
  expect({ missingInLive: comparison.missingInLive, missingInRebuild: comparison.missingInRebuild, different: comparison.different }).toEqual({
    missingInLive: [],
    missingInRebuild: [],
    different: [],
  });
  expect(comparison.documents).toBeGreaterThanOrEqual(minDocuments);
  return { idle, comparison };
}

/** Waits until the pipeline is idle and serves every environment: each test may run alone (`-t`). */
export async function fleetServed(pipeline: Pipeline, redis: Redis, kafkaAdmin: Admin, environments: readonly FleetEnvironment[]): Promise<void> {
  await waitForIdle(pipeline, redis, kafkaAdmin, IDLE_TIMEOUT_MS);
  for (const environment of environments) {
    await eventually(`environment ${environment.id} served`, async () => ((await environmentSdk(pipeline, environment).flags()).size > 0 ? true : undefined), { timeoutMs: 10_000 });
  }
}
