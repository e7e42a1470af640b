import { loadEvaluationServiceConfig } from './evaluation-service';

describe('evaluation service configuration', () => {
  const base = { REDIS_URL: 'redis://127.0.0.1:6379' };

  it('checks environment revisions every 30 s and trusts a cached identity for 60 s unless told otherwise', () => {
    expect(loadEvaluationServiceConfig(base)).toMatchObject({ pollIntervalMs: 30_000, identityTtlMs: 60_000 });
    expect(loadEvaluationServiceConfig({ ...base, POLL_INTERVAL_MS: '5000', IDENTITY_TTL_MS: '0' })).toMatchObject({ pollIntervalMs: 5_000, identityTtlMs: 0 });
  });

  it('refuses to start on a bad value, naming each bad variable', () => {
    let message = '';
    try {
      loadEvaluationServiceConfig({ ...base, IDENTITY_TTL_MS: '-1', POLL_INTERVAL_MS: 'often' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^Invalid configuration/);
    expect(message).toContain('IDENTITY_TTL_MS must be an integer from 0');
    expect(message).toContain('POLL_INTERVAL_MS must be an integer from 100');
  });
});
