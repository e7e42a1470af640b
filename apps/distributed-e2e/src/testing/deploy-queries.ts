import { ensureSyntaxTree } from '@codemirror/language';
import { EditorState } from '@codemirror/state';
import { parseExposition } from '@flagline/observability';
import { LanguageType, promQLLanguage } from '@prometheus-io/codemirror-promql';
import { Parser as PromQLChecker } from '@prometheus-io/codemirror-promql/dist/cjs/parser/parser';
import { parser } from '@prometheus-io/lezer-promql';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/** The repository's deploy/ directory. */
export const DEPLOY_DIR = join(__dirname, '..', '..', '..', '..', 'deploy');
export const ALERTS_FILE = join(DEPLOY_DIR, 'prometheus', 'alerts.yml');
export const DASHBOARD_FILE = join(DEPLOY_DIR, 'grafana', 'flagline-dashboard.json');

/** One PromQL expression and where it comes from (an alert's or a panel's name). */
export interface Query {
  readonly source: string;
  readonly expr: string;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const listAt = (value: Record<string, unknown>, key: string): unknown[] => {
  const list = value[key];
  if (!Array.isArray(list)) throw new Error(`"${key}" must be a list`);
  return list;
};

/** Every alerting rule of alerts.yml, checked for the fields Prometheus requires. */
export function alertRules(): (Query & { readonly for?: unknown; readonly labels: Record<string, unknown>; readonly annotations: Record<string, unknown> })[] {
  const document: unknown = parse(readFileSync(ALERTS_FILE, 'utf8'));
  if (!isRecord(document)) throw new Error('alerts.yml is not a mapping');
  return listAt(document, 'groups').flatMap((group) => {
    if (!isRecord(group) || typeof group['name'] !== 'string') throw new Error('a rule group without a name');
    return listAt(group, 'rules').map((rule) => {
      if (!isRecord(rule) || typeof rule['alert'] !== 'string' || typeof rule['expr'] !== 'string') throw new Error(`group ${String(group['name'])}: a rule without alert or expr`);
      if (!isRecord(rule['labels']) || !isRecord(rule['annotations'])) throw new Error(`${rule['alert']}: labels and annotations are required`);
      return { source: rule['alert'], expr: rule['expr'], ...(rule['for'] !== undefined ? { for: rule['for'] } : {}), labels: rule['labels'], annotations: rule['annotations'] };
    });
  });
}

/** The Grafana dashboard, parsed. */
export function dashboard(): Record<string, unknown> {
  const parsed: unknown = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8'));
  if (!isRecord(parsed)) throw new Error('the dashboard is not a JSON object');
  return parsed;
}

/** Every panel of the dashboard that shows data (rows excluded), with its targets. */
export function dashboardPanels(): { readonly title: string; readonly type: string; readonly datasource: unknown; readonly targets: Record<string, unknown>[] }[] {
  return listAt(dashboard(), 'panels')
    .filter((panel): panel is Record<string, unknown> => isRecord(panel) && panel['type'] !== 'row')
    .map((panel) => ({
      title: String(panel['title']),
      type: String(panel['type']),
      datasource: panel['datasource'],
      targets: Array.isArray(panel['targets']) ? panel['targets'].filter(isRecord) : [],
    }));
}

export function dashboardQueries(): Query[] {
  return dashboardPanels().flatMap((panel) => panel.targets.map((target) => ({ source: panel.title, expr: String(target['expr']) })));
}

/**
 * Grafana's interval variables stand for a duration; they are replaced by one before parsing (a
 * dashboard query is not PromQL until Grafana has done so).
 */
export function withGrafanaVariables(expr: string): string {
  return expr.replace(/\$__(rate_interval|interval|range)\b/g, '5m');
}

/** Parse errors of an expression as Prometheus's own parser (the one of its web UI) reports them: `at <offset>: <text>`. */
export function promqlErrors(expr: string): string[] {
  const errors: string[] = [];
  const text = withGrafanaVariables(expr);
  parser.parse(text).iterate({
    enter: (node) => {
      if (node.type.isError) errors.push(`at ${node.from}: "${text.slice(Math.max(0, node.from - 10), node.to + 10)}"`);
    },
  });
  return errors;
}

/**
 * Type errors of an expression, as the Prometheus web UI's linter (codemirror-promql, run here
 * without an editor) reports them: a function given an instant vector where it takes a range
 * (`rate(x)`), an aggregation over a range vector (`sum(x[5m])`), a binary operator between
 * incompatible types. Grammar errors are promqlErrors' part.
 */
export function promqlTypeErrors(expr: string): string[] {
  const text = withGrafanaVariables(expr);
  const state = EditorState.create({ doc: text, extensions: promQLLanguage(LanguageType.PromQL) });
  if (ensureSyntaxTree(state, text.length, 5_000) === null) return [`not parsed within 5 s: ${text}`];
  const checker = new PromQLChecker(state);
  checker.analyze();
  return checker
    .getDiagnostics()
    .filter((diagnostic) => diagnostic.severity === 'error')
    .map((diagnostic) => `at ${diagnostic.from}: ${diagnostic.message}`);
}

/** A Prometheus duration (`30s`, `5m`, `1h30m`, `2d`): units in decreasing order, at least one. */
const PROMETHEUS_DURATION = /^(?=\d)(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?$/;

const RULE_FIELDS = new Set(['alert', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations']);

/**
 * What Prometheus would refuse in an alerting rule, or an operator would miss: its name, its
 * expression (parsed and typed), `for` a valid duration, `labels.severity` one of ours,
 * `annotations.summary` and `description` present, and no field Prometheus does not know.
 */
export function ruleProblems(rule: Record<string, unknown>): string[] {
  const name = typeof rule['alert'] === 'string' ? rule['alert'] : '(no name)';
  const problems: string[] = [];
  if (typeof rule['alert'] !== 'string' || !/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(rule['alert'])) problems.push(`${name}: alert must be a name ([a-zA-Z_][a-zA-Z0-9_]*)`);
  if (typeof rule['expr'] !== 'string' || rule['expr'].trim() === '') problems.push(`${name}: expr is required`);
  else problems.push(...[...promqlErrors(rule['expr']), ...promqlTypeErrors(rule['expr'])].map((error) => `${name}: expr ${error}`));
  for (const field of ['for', 'keep_firing_for']) {
    if (rule[field] !== undefined && (typeof rule[field] !== 'string' || !PROMETHEUS_DURATION.test(rule[field]))) problems.push(`${name}: ${field} must be a duration like 5m, got ${JSON.stringify(rule[field])}`);
  }
  const labels = isRecord(rule['labels']) ? rule['labels'] : {};
  if (!['critical', 'warning'].includes(String(labels['severity']))) problems.push(`${name}: labels.severity must be critical or warning`);
  const annotations = isRecord(rule['annotations']) ? rule['annotations'] : {};
  for (const field of ['summary', 'description']) {
    if (typeof annotations[field] !== 'string' || annotations[field].trim() === '') problems.push(`${name}: annotations.${field} is required`);
  }
  for (const field of Object.keys(rule)) if (!RULE_FIELDS.has(field)) problems.push(`${name}: unknown field ${field}`);
  return problems;
}

/** Every rule of alerts.yml as written (no check), for ruleProblems. */
export function rawAlertRules(): Record<string, unknown>[] {
  const document: unknown = parse(readFileSync(ALERTS_FILE, 'utf8'));
  if (!isRecord(document)) throw new Error('alerts.yml is not a mapping');
  return listAt(document, 'groups').flatMap((group) => (isRecord(group) ? listAt(group, 'rules').filter(isRecord) : []));
}

/** The metric names an expression selects. */
export function metricNames(expr: string): string[] {
  const text = withGrafanaVariables(expr);
  const names = new Set<string>();
  parser.parse(text).iterate({
    enter: (node) => {
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') names.add(text.slice(node.from, node.to));
    },
  });
  return [...names];
}

/** Metrics Prometheus itself writes for every target, not the services. */
export const PROMETHEUS_OWN_METRICS: ReadonlySet<string> = new Set(['up']);

/** Every query of both files. */
export function allQueries(): Query[] {
  return [...alertRules(), ...dashboardQueries()];
}

/**
 * Names a service's /metrics exposes: families from `# TYPE` lines (with a histogram's `_bucket`,
 * `_sum` and `_count`, which have no sample before the first observation) and every sample name.
 */
export async function exposedNames(url: string): Promise<Set<string>> {
  const exposition = parseExposition(await (await fetch(`${url}/metrics`)).text());
  const names = new Set(exposition.samples.map((sample) => sample.name));
  for (const [family, type] of exposition.types) {
    names.add(family);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${family}${suffix}`);
  }
  return names;
}
