import { ConfigError } from '@flagline/observability';
import { loadProjectorConfig } from './projector.service';

const required = { KAFKA_BROKERS: '127.0.0.1:9092', REDIS_URL: 'redis://127.0.0.1:6379' };

function configProblems(env: NodeJS.ProcessEnv): readonly string[] {
  try {
    loadProjectorConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('projector consumer session configuration', () => {
  it('defaults to a 1 s session with a heartbeat every 300 ms, so a killed member is replaced within seconds', () => {
    const config = loadProjectorConfig(required);
    expect({ session: config.sessionTimeoutMs, heartbeat: config.heartbeatIntervalMs }).toEqual({ session: 1000, heartbeat: 300 });
  });

  it('keeps the default heartbeat within a third of a shorter session, and at 300 ms for a longer one', () => {
    expect(loadProjectorConfig({ ...required, KAFKA_SESSION_TIMEOUT_MS: '600' }).heartbeatIntervalMs).toBe(200);
    expect(loadProjectorConfig({ ...required, KAFKA_SESSION_TIMEOUT_MS: '10000' }).heartbeatIntervalMs).toBe(300);
    expect(loadProjectorConfig({ ...required, KAFKA_SESSION_TIMEOUT_MS: '10000', KAFKA_HEARTBEAT_INTERVAL_MS: '3000' }).heartbeatIntervalMs).toBe(3000);
  });

  it('refuses a heartbeat over a third of the session, and a session under 500 ms, naming the variables', () => {
    expect(configProblems({ ...required, KAFKA_SESSION_TIMEOUT_MS: '1200', KAFKA_HEARTBEAT_INTERVAL_MS: '500' })).toEqual([
      expect.stringMatching(/^KAFKA_HEARTBEAT_INTERVAL_MS \(500\) must be at most a third of KAFKA_SESSION_TIMEOUT_MS \(1200\)/),
    ]);
    expect(configProblems({ ...required, KAFKA_SESSION_TIMEOUT_MS: '200' })).toEqual([expect.stringMatching(/^KAFKA_SESSION_TIMEOUT_MS/)]);
  });
});
