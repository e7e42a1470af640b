// The operator's pictures, checked without a Prometheus or Grafana: every PromQL expression of
// deploy/prometheus/alerts.yml and deploy/grafana/flagline-dashboard.json parses with
// Prometheus's own parser, and selects only metrics the services register. The command and the
// evaluation service are started here as processes (on a temporary embedded log, and on a Redis
// that is not there) and their /metrics read; the relay and the projector need the brokers, so their
// registries are read in the distributed end-to-end spec (pipeline.int.spec.ts), which checks the
// same names against all four services' /metrics.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServiceProcess } from './testing/service-process';
import { parse } from 'yaml';
import { alertRules, allQueries, dashboard, dashboardPanels, DEPLOY_DIR, exposedNames, metricNames, PROMETHEUS_OWN_METRICS, promqlErrors, promqlTypeErrors, rawAlertRules, ruleProblems } from './testing/deploy-queries';

/** Names the relay and the projector register, read from their source (their registries are read in pipeline.int.spec.ts). */
function declaredIn(file: string): string[] {
  const source = readFileSync(join(__dirname, '..', '..', file), 'utf8');
  const names = [...source.matchAll(/metrics\.(counter|gauge|histogram)\(\s*'([a-zA-Z_:][a-zA-Z0-9_:]*)'/g)].map((match) => match[2] as string);
  return names.flatMap((name) => [name, `${name}_bucket`, `${name}_sum`, `${name}_count`]);
}

describe('deploy/prometheus/alerts.yml and deploy/grafana/flagline-dashboard.json', () => {
  it('parse as PromQL, every expression of both files', () => {
    const queries = allQueries();
    expect(queries.length).toBeGreaterThan(20);
    const failures = queries.map((query) => ({ ...query, errors: promqlErrors(query.expr) })).filter((query) => query.errors.length > 0);
    expect(failures).toEqual([]);
  });

  it('the parser finds errors (so the check above can fail)', () => {
    expect(promqlErrors('sum(rate(flagline_ready[5m])')).not.toEqual([]);
    expect(promqlErrors('flagline_ready >')).not.toEqual([]);
    expect(promqlErrors('histogram_quantile(0.99, sum by (le) (rate(x_bucket[$__rate_interval])))')).toEqual([]);
  });

  it('type-check, every expression of both files (range and instant vectors where functions and aggregations take them)', () => {
    const failures = allQueries().map((query) => ({ ...query, errors: promqlTypeErrors(query.expr) })).filter((query) => query.errors.length > 0);
    expect(failures).toEqual([]);
  });

  it('the type check finds what the grammar lets through', () => {
    expect(promqlErrors('rate(flagline_ready)')).toEqual([]);
    expect(promqlTypeErrors('rate(flagline_ready)')).toEqual(['at 5: expected type matrix in call to function "rate", got vector']);
    expect(promqlTypeErrors('sum(flagline_ready[5m])')).toEqual(['at 4: expected type vector in aggregation expression, got matrix']);
    expect(promqlTypeErrors('increase(flagline_projector_dead_letters_total)')).not.toEqual([]);
    expect(promqlTypeErrors('histogram_quantile(0.99, sum by (le) (rate(x_bucket[$__rate_interval])))')).toEqual([]);
  });

  it('every alerting rule has a name, a typed expression, a valid for, a severity, a summary and a description', () => {
    const rules = rawAlertRules();
    expect(rules.length).toBe(alertRules().length);
    expect(rules.flatMap((rule) => ruleProblems(rule))).toEqual([]);
  });

  it('the rule check finds each kind of bad rule', () => {
    const good = { alert: 'Good', expr: 'flagline_ready == 0', for: '1h30m', labels: { severity: 'warning' }, annotations: { summary: 's', description: 'd' } };
    expect(ruleProblems(good)).toEqual([]);
    expect(ruleProblems({ ...good, expr: 'rate(flagline_ready) > 0' })).toEqual([expect.stringContaining('Good: expr at 5: expected type matrix')]);
    expect(ruleProblems({ ...good, for: '5 minutes' })).toEqual(['Good: for must be a duration like 5m, got "5 minutes"']);
    expect(ruleProblems({ ...good, for: '5m1h' })).toEqual(['Good: for must be a duration like 5m, got "5m1h"']);
    expect(ruleProblems({ ...good, alert: 'Bad name' })).toEqual(['Bad name: alert must be a name ([a-zA-Z_][a-zA-Z0-9_]*)']);
    expect(ruleProblems({ ...good, labels: {} })).toEqual(['Good: labels.severity must be critical or warning']);
    expect(ruleProblems({ ...good, annotations: { description: 'd' } })).toEqual(['Good: annotations.summary is required']);
    expect(ruleProblems({ ...good, fro: '5m' })).toEqual(['Good: unknown field fro']);
  });

  it('alerts cover lag, staleness, dead letters, readiness, error rates and propagation, each with a severity and a description', () => {
    const rules = alertRules();
    const names = rules.map((rule) => rule.source);
    expect(new Set(names).size).toBe(names.length);
    for (const metric of ['flagline_kafka_consumer_lag', 'flagline_kafka_topic_partitions', 'flagline_relay_lag_positions', 'flagline_evaluation_read_model_staleness_seconds', 'flagline_projector_dead_letters_total', 'flagline_ready', 'flagline_dependency_up', 'flagline_admin_requests_total', 'flagline_evaluation_propagation_seconds_bucket']) {
      expect(rules.filter((rule) => metricNames(rule.expr).includes(metric)).map((rule) => rule.source)).not.toEqual([]);
    }
    for (const rule of rules) {
      expect(['critical', 'warning']).toContain(rule.labels['severity']);
      expect(String(rule.annotations['description'])).toContain('Observing it');
    }
  });

  it('use the relay\'s lag in positions, which both event stores expose, never its lag in events, which EventStoreDB does not', () => {
    const users = allQueries().filter((query) => metricNames(query.expr).includes('flagline_relay_lag_events'));
    expect(users.map((query) => query.source)).toEqual([]);
    const relay = readFileSync(join(__dirname, '..', '..', 'relay', 'src', 'relay.service.ts'), 'utf8');
    expect(relay).toMatch(/if \(config\.eventStore\.kind === 'embedded'\) \{\s*metrics\.gauge\('flagline_relay_lag_events'/);
    // Behind and not moving: a threshold in events means nothing in EventStoreDB's byte positions.
    const stuck = alertRules().find((rule) => metricNames(rule.expr).includes('flagline_relay_lag_positions'));
    expect(stuck?.expr).toMatch(/flagline_relay_lag_positions\) > 0\s+and .*changes\(flagline_relay_position\[5m\]\)\) == 0/);
  });

  it('alert when partitions have no owner, which the consumer lag cannot show (it has no series for them)', () => {
    const exprs = alertRules().map((rule) => rule.expr);
    expect(exprs).toContain('absent(flagline_kafka_consumer_lag)');
    expect(exprs).toContain('max by (group, topic) (flagline_kafka_topic_partitions) > count by (group, topic) (flagline_kafka_consumer_lag)');
  });

  it('say in the README what each alert\'s threshold and for: are', () => {
    const readme = readFileSync(join(DEPLOY_DIR, '..', 'README.md'), 'utf8');
    const words = (duration: string): string => duration.replace(/^(\d+)m$/, '$1 min').replace(/^(\d+)s$/, '$1 s').replace(/^(\d+)h$/, '$1 h');
    for (const rule of alertRules()) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${rule.source}\` |`));
      expect({ alert: rule.source, documented: row !== undefined }).toEqual({ alert: rule.source, documented: true });
      const documented = row ?? '';
      if (typeof rule.for === 'string') expect({ alert: rule.source, row: documented.includes(words(rule.for)) }).toEqual({ alert: rule.source, row: true });
      else expect({ alert: rule.source, row: /\bfor \d/.test(documented.split(' | ')[1] ?? '') }).toEqual({ alert: rule.source, row: false });
    }
    const stale = alertRules().find((rule) => rule.source === 'FlaglineReadModelStale');
    const threshold = /> (\d+)$/.exec(stale?.expr.trim() ?? '')?.[1];
    expect(readme).toContain(`| \`FlaglineReadModelStale\` | an evaluation service's copy has been cut off for over ${threshold} s`);
  });

  it('the example Prometheus configuration loads the rules and names every job as FlaglineTargetDown selects', () => {
    const config = parse(readFileSync(join(DEPLOY_DIR, 'prometheus', 'prometheus.yml'), 'utf8')) as { rule_files: string[]; scrape_configs: { job_name: string }[] };
    expect(config.rule_files).toEqual(['alerts.yml']);
    const selector = /up\{job=~"([^"]+)"\}/.exec(alertRules().find((rule) => rule.source === 'FlaglineTargetDown')?.expr ?? '');
    expect(selector).not.toBeNull();
    const jobs = new RegExp(`^(?:${selector?.[1] ?? ''})$`);
    expect(config.scrape_configs.length).toBeGreaterThanOrEqual(4);
    for (const { job_name } of config.scrape_configs) expect(job_name).toMatch(jobs);
  });

  it('the dashboard takes its datasource as a variable, and every panel queries it with targets', () => {
    const templating = dashboard()['templating'] as { list: { name: string; type: string; query: string }[] };
    expect(templating.list).toContainEqual(expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }));
    const panels = dashboardPanels();
    expect(panels.length).toBeGreaterThanOrEqual(15);
    for (const panel of panels) {
      expect(panel.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(panel.targets.length).toBeGreaterThan(0);
      const refIds = panel.targets.map((target) => target['refId']);
      expect(new Set(refIds).size).toBe(refIds.length);
      for (const target of panel.targets) expect(typeof target['expr']).toBe('string');
    }
  });

  describe('select only metrics the services register', () => {
    const workDir = mkdtempSync(join(tmpdir(), 'flagline-dashboards-'));
    const exposed = new Set<string>(PROMETHEUS_OWN_METRICS);
    const services = [
      new ServiceProcess({
        app: 'command-service',
        label: 'command-service',
        logDir: workDir,
        env: { EVENT_STORE: 'embedded', DATA_DIR: join(workDir, 'data'), ADMIN_API_KEY: 'dashboards-spec-admin-key', INTERNAL_API_TOKEN: 'dashboards-spec-internal-token', PORT: '0', HOST: '127.0.0.1' },
      }),
      // Nothing listens on port 1: the service starts, unready, and registers its metrics all the same.
      new ServiceProcess({ app: 'evaluation-service', label: 'evaluation-service', logDir: workDir, env: { REDIS_URL: 'redis://127.0.0.1:1', PORT: '0', HOST: '127.0.0.1' } }),
    ];

    beforeAll(async () => {
      for (const service of services) service.start();
      for (const service of services) {
        await service.waitReady(60_000, '/health/live');
        for (const name of await exposedNames(service.url)) exposed.add(name);
      }
      for (const file of ['relay/src/relay.service.ts', 'projector/src/projector.service.ts']) for (const name of declaredIn(file)) exposed.add(name);
    }, 90_000);

    afterAll(async () => {
      for (const service of services) await service.stop();
      rmSync(workDir, { recursive: true, force: true });
    });

    it('every name used in an expression is one a service exposes', () => {
      const unknown = allQueries().flatMap((query) => metricNames(query.expr).filter((name) => !exposed.has(name)).map((name) => `${query.source}: ${name}`));
      expect(unknown).toEqual([]);
      // And the check can fail.
      expect(metricNames('rate(flagline_no_such_metric_total[5m])').filter((name) => !exposed.has(name))).toEqual(['flagline_no_such_metric_total']);
    });
  });
});
