import { EventEmitter } from 'node:events';
import { CatchUpWindow, failing, HealthChecks, PASSING, watchConnection } from './health';
import { ServiceMetrics } from './metrics';
import { answerOps } from './ops-http-app';
import { parseExposition } from './exposition';

/** A clock the test moves by hand. */
function fakeClock(start = Date.parse('2026-01-01T00:00:00.000Z')): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => (time += ms) };
}

describe('HealthChecks', () => {
  it('is ready only while every required check passes, naming each failing one with its reason and since when', () => {
    const clock = fakeClock();
    const health = new HealthChecks('projector', clock.now).add('kafka', 'not joined yet', { dependency: 'kafka' }).add('redis', 'not connected yet', { dependency: 'redis' });
    expect(health.report()).toMatchObject({
      status: 'unavailable',
      ready: false,
      service: 'projector',
      checks: { kafka: { ok: false, reason: 'not joined yet', since: '2026-01-01T00:00:00.000Z' }, redis: { ok: false, reason: 'not connected yet' } },
    });
    clock.advance(1000);
    health.up('kafka');
    health.up('redis');
    expect(health.report()).toEqual({
      status: 'ok',
      ready: true,
      service: 'projector',
      checks: { kafka: { ok: true, since: '2026-01-01T00:00:01.000Z' }, redis: { ok: true, since: '2026-01-01T00:00:01.000Z' } },
    });
    clock.advance(5000);
    health.down('redis', 'connect ECONNREFUSED 127.0.0.1:6379');
    clock.advance(2000);
    // A second failure with another reason keeps the time the check started failing.
    health.down('redis', 'connection closed');
    const report = health.report({ lastPosition: 7 });
    expect(report).toMatchObject({ status: 'unavailable', ready: false, lastPosition: 7 });
    expect(report.checks['redis']).toEqual({ ok: false, reason: 'connection closed', since: '2026-01-01T00:00:06.000Z' });
    expect(report.checks['kafka']).toEqual({ ok: true, since: '2026-01-01T00:00:01.000Z' });
  });

  it('stays ready but degraded while only a degrading check fails, and evaluates probes at each report', () => {
    let loaded = false;
    let feed = true;
    const health = new HealthChecks('evaluation-service')
      .probe('read-models', () => (loaded ? PASSING : failing('not loaded yet')))
      .probe('redis', () => (feed ? PASSING : failing('update feed lost')), { effect: 'degrading', dependency: 'redis' });
    expect(health.report()).toMatchObject({ status: 'unavailable', ready: false });
    loaded = true;
    expect(health.report()).toMatchObject({ status: 'ok', ready: true });
    feed = false;
    expect(health.report()).toMatchObject({ status: 'degraded', ready: true, checks: { redis: { ok: false, reason: 'update feed lost' } } });
  });

  it('refuses two checks of one name and a state for an unknown check', () => {
    const health = new HealthChecks('relay').add('kafka', 'not connected');
    expect(() => health.add('kafka', 'again')).toThrow(/already registered/);
    expect(() => health.up('redis')).toThrow(/No health check named redis/);
  });

  it('exports readiness and each dependency as gauges, a dependency down when any of its checks fails', async () => {
    const metrics = new ServiceMetrics('relay');
    const health = new HealthChecks('relay')
      .add('kafka-producer', 'not connected', { dependency: 'kafka' })
      .add('kafka-admin', 'not connected', { dependency: 'kafka' })
      .add('eventstore', 'not connected', { dependency: 'eventstore' });
    health.exportTo(metrics);
    health.up('kafka-producer');
    health.up('eventstore');
    let samples = parseExposition((await metrics.render()).body);
    expect(samples.value('flagline_dependency_up', { dependency: 'kafka' })).toBe(0);
    expect(samples.value('flagline_dependency_up', { dependency: 'eventstore' })).toBe(1);
    expect(samples.value('flagline_ready')).toBe(0);
    health.up('kafka-admin');
    samples = parseExposition((await metrics.render()).body);
    expect(samples.value('flagline_dependency_up', { dependency: 'kafka' })).toBe(1);
    expect(samples.value('flagline_ready')).toBe(1);
  });
});

describe('answerOps', () => {
  const metrics = new ServiceMetrics('relay');
  const health = new HealthChecks('relay').add('kafka', 'not connected to 127.0.0.1:9092');
  const ops = { health: () => health.report(), metrics };

  it('answers ready with 503 and the failing checks while unready, then 200; live and /health are 200 throughout', async () => {
    const ready = await answerOps('/health/ready', ops);
    expect(ready?.status).toBe(503);
    expect(JSON.parse(ready?.body ?? '')).toMatchObject({ status: 'unavailable', checks: { kafka: { ok: false, reason: 'not connected to 127.0.0.1:9092' } } });
    expect((await answerOps('/health/live', ops))?.status).toBe(200);
    const alias = await answerOps('/health?verbose=1', ops);
    expect(alias?.status).toBe(200);
    expect(JSON.parse(alias?.body ?? '')).toMatchObject({ ready: false });
    health.up('kafka');
    expect((await answerOps('/health/ready', ops))?.status).toBe(200);
  });

  it('answers /metrics in the text format and nothing else', async () => {
    const answer = await answerOps('/metrics', ops);
    expect(answer?.contentType).toMatch(/^text\/plain/);
    expect(answer?.body).toContain('process_cpu_user_seconds_total');
    expect(await answerOps('/healthz', ops)).toBeNull();
  });
});

describe('watchConnection', () => {
  it('follows a reconnecting client: failing with its last error while down, passing once ready', () => {
    const client = Object.assign(new EventEmitter(), { status: 'connecting' });
    const health = new HealthChecks('projector').add('redis', 'not connected yet');
    watchConnection(client, health, 'redis');
    expect(health.report().checks['redis']).toMatchObject({ ok: false, reason: 'not connected yet' });
    client.emit('error', new Error('connect ECONNREFUSED 127.0.0.1:6390'));
    expect(health.report().checks['redis']).toMatchObject({ ok: false, reason: 'connection lost: connect ECONNREFUSED 127.0.0.1:6390' });
    client.status = 'ready';
    client.emit('ready');
    expect(health.report()).toMatchObject({ ready: true, checks: { redis: { ok: true } } });
    client.status = 'reconnecting';
    client.emit('close');
    expect(health.report()).toMatchObject({ ready: false, checks: { redis: { ok: false, reason: 'connection closed' } } });
  });
});

describe('CatchUpWindow', () => {
  it('passes a follower that reached where the head was a window ago, and fails one left behind', () => {
    const clock = fakeClock();
    const window = new CatchUpWindow(10_000, clock.now);
    expect(window.check(0).ok).toBe(true); // nothing sampled yet
    window.head(100);
    clock.advance(5000);
    window.head(200);
    expect(window.check(50).ok).toBe(true); // no sample is a window old yet
    clock.advance(5000);
    window.head(300);
    // The head was 100 ten seconds ago.
    expect(window.check(100).ok).toBe(true);
    expect(window.check(99)).toEqual({ ok: false, reason: "at position 99, behind where the log's head was 10 s ago (100)" });
    clock.advance(5000);
    window.head(300);
    // Now the head of ten seconds ago was 200.
    expect(window.check(150).ok).toBe(false);
    expect(window.check(250).ok).toBe(true);
  });
});
