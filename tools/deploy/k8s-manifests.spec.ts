// deploy/k8s as an operator applies it: parsed, each Deployment checked against the service's
// own sources (the secrets it reads, the routes its probes ask), and the kustomization checked to
// refuse to render without the operator's secrets.env.
import { generatedSecret, secretProblem } from '@flagline/observability';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { requiredSecrets, servedRoutes, serviceSources } from './service-sources';

const ROOT = resolve(__dirname, '..', '..');
const K8S = join(ROOT, 'deploy', 'k8s');

type Json = Record<string, unknown>;

interface EnvEntry {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: { readonly secretKeyRef?: { readonly name: string; readonly key: string; readonly optional?: boolean } };
}

interface Probe {
  readonly httpGet?: { readonly path: string };
  readonly periodSeconds?: number;
  readonly failureThreshold?: number;
}

interface Container {
  readonly name: string;
  readonly env?: readonly EnvEntry[];
  readonly envFrom?: readonly { readonly secretRef?: unknown; readonly configMapRef?: unknown }[];
  readonly readinessProbe?: Probe;
  readonly livenessProbe?: Probe;
  readonly startupProbe?: Probe;
  readonly securityContext?: { readonly readOnlyRootFilesystem?: boolean };
  readonly volumeMounts?: readonly { readonly name: string; readonly mountPath: string; readonly readOnly?: boolean }[];
}

interface Deployment {
  readonly name: string;
  readonly containers: readonly Container[];
  readonly volumes: readonly { readonly name: string }[];
}

function documents(file: string): Json[] {
  return parseAllDocuments(readFileSync(join(K8S, file), 'utf8')).map((document) => {
    if (document.errors.length > 0) throw new Error(`${file}: ${document.errors.map((error) => error.message).join('; ')}`);
    return document.toJS() as Json;
  });
}

const kustomization = documents('kustomization.yaml')[0] as { resources: string[]; secretGenerator?: { name: string; envs?: string[] }[] };
const resources = kustomization.resources.flatMap((file) => documents(file));
const deployments: Deployment[] = resources
  .filter((resource) => resource['kind'] === 'Deployment')
  .map((resource) => {
    const metadata = resource['metadata'] as { name: string };
    const spec = resource['spec'] as { template: { spec: { containers: Container[]; volumes?: { name: string }[] } } };
    return { name: metadata.name, containers: spec.template.spec.containers, volumes: spec.template.spec.volumes ?? [] };
  });

const configMap = (resources.find((resource) => resource['kind'] === 'ConfigMap')?.['data'] ?? {}) as Record<string, string>;

/**
 * The directories a container writes: each `*_DIR` variable (from the config map or its own env)
 * its service's sources read, and the system's temporary directory where they call tmpdir().
 */
function writtenDirectories(source: string, container: Container, config: Record<string, string>): { variable: string; path: string }[] {
  const values: Record<string, string> = { ...config };
  for (const entry of container.env ?? []) if (entry.value !== undefined) values[entry.name] = entry.value;
  const dirs = Object.entries(values)
    .filter(([variable]) => variable.endsWith('_DIR') && source.includes(`'${variable}'`))
    .map(([variable, path]) => ({ variable, path }));
  if (/\btmpdir\(\)/.test(source)) dirs.push({ variable: 'tmpdir()', path: '/tmp' });
  return dirs;
}

/** The written directories no writable volume of the container holds. */
function unmountedDirectories(dirs: readonly { variable: string; path: string }[], container: Container, volumes: readonly { name: string }[]): string[] {
  const mounts = (container.volumeMounts ?? []).filter((mount) => mount.readOnly !== true && volumes.some((volume) => volume.name === mount.name));
  return dirs
    .filter(({ path }) => !mounts.some((mount) => path === mount.mountPath || path.startsWith(`${mount.mountPath.replace(/\/$/, '')}/`)))
    .map(({ variable, path }) => `${variable}=${path}`);
}

const SECRET_NAME = 'flagline-secrets';
const exampleSecrets = readFileSync(join(K8S, 'secrets.env.example'), 'utf8')
  .split('\n')
  .filter((line) => /^[A-Z0-9_]+=/.test(line))
  .map((line) => line.slice(0, line.indexOf('=')));

describe('deploy/k8s', () => {
  it('deploys each of the four services, named as its app', () => {
    expect(deployments.map((deployment) => deployment.name).sort()).toEqual(['command-service', 'evaluation-service', 'projector', 'relay']);
  });

  it('generates the secret from the operator\'s secrets.env, which git ignores', () => {
    expect(kustomization.secretGenerator).toEqual([{ name: SECRET_NAME, envs: ['secrets.env'] }]);
    expect(resources.filter((resource) => resource['kind'] === 'Secret')).toEqual([]);
    expect(readFileSync(join(ROOT, '.gitignore'), 'utf8').split('\n')).toContain('deploy/k8s/secrets.env');
  });

  describe.each(deployments.map((deployment) => [deployment.name, deployment] as const))('%s', (name, deployment) => {
    const source = serviceSources(name);
    const container = deployment.containers[0];
    if (!container) throw new Error(`${name} has no container`);
    const refs = (container.env ?? []).flatMap((entry) => (entry.valueFrom?.secretKeyRef ? [{ variable: entry.name, ...entry.valueFrom.secretKeyRef }] : []));

    it('takes secrets one by one, never the whole secret', () => {
      expect((container.envFrom ?? []).filter((from) => from.secretRef !== undefined)).toEqual([]);
    });

    it('gets only secrets its sources read, each under its own name', () => {
      for (const ref of refs) {
        expect(ref).toEqual(expect.objectContaining({ name: SECRET_NAME, key: ref.variable }));
        expect({ variable: ref.variable, readBy: source.includes(`'${ref.variable}'`) ? name : 'nobody' }).toEqual({ variable: ref.variable, readBy: name });
      }
    });

    it('gets every secret it requires, from a key secrets.env.example lists', () => {
      const required = requiredSecrets(source);
      const given = refs.filter((ref) => ref.optional !== true).map((ref) => ref.variable);
      expect(required.filter((variable) => !given.includes(variable))).toEqual([]);
      for (const ref of refs.filter((r) => r.optional !== true)) expect(exampleSecrets).toContain(ref.key);
    });

    it('writes only to mounted volumes when its root file system is read-only', () => {
      if (container.securityContext?.readOnlyRootFilesystem !== true) return;
      expect(unmountedDirectories(writtenDirectories(source, container, configMap), container, deployment.volumes)).toEqual([]);
    });

    it('probes routes the service answers', () => {
      const routes = servedRoutes(name);
      const probes = [container.readinessProbe, container.livenessProbe, container.startupProbe].flatMap((probe) => (probe?.httpGet ? [probe.httpGet.path] : []));
      expect(probes.length).toBeGreaterThan(0);
      expect(probes.filter((path) => !routes.has(path))).toEqual([]);
    });
  });

  it('finds a read-only container writing where no volume is (the command service without its catalog volume)', () => {
    const command = deployments.find((deployment) => deployment.name === 'command-service');
    const container = command?.containers[0];
    if (!command || !container) throw new Error('no command-service container');
    const bare: Container = { ...container, volumeMounts: [] };
    expect(unmountedDirectories(writtenDirectories(serviceSources('command-service'), bare, configMap), bare, command.volumes)).toEqual(['CATALOG_DIR=/var/lib/flagline/catalog', 'tmpdir()=/tmp']);
  });

  it('lets the command service read a long log before liveness counts (a startup probe of 10 min or more)', () => {
    const container = deployments.find((deployment) => deployment.name === 'command-service')?.containers[0];
    const startup = container?.startupProbe;
    expect(startup?.httpGet?.path).toBe('/health/live');
    expect((startup?.periodSeconds ?? 10) * (startup?.failureThreshold ?? 3)).toBeGreaterThanOrEqual(600);
  });

  it('gives the admin key to the command service alone', () => {
    const holders = deployments.filter((deployment) => deployment.containers.some((container) => (container.env ?? []).some((entry) => entry.valueFrom?.secretKeyRef?.key === 'ADMIN_API_KEY')));
    expect(holders.map((deployment) => deployment.name)).toEqual(['command-service']);
  });

  it('points at EventStoreDB with kurrentdb:// and sets the topics\' replication', () => {
    const config = resources.find((resource) => resource['kind'] === 'ConfigMap')?.['data'] as Record<string, string>;
    expect(config['EVENTSTORE_CONNECTION_STRING']).toMatch(/^kurrentdb:\/\//);
    expect(Number(config['KAFKA_REPLICATION_FACTOR'])).toBeGreaterThanOrEqual(1);
    expect(['true', 'false']).toContain(config['KAFKA_CREATE_TOPICS']);
  });

  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
  if (!kubectl) process.stdout.write('[deploy] kubectl kustomize checks SKIPPED: kubectl is not on PATH\n');
  (kubectl ? describe : describe.skip)('kubectl kustomize', () => {
    let copy: string;

    beforeAll(() => {
      copy = mkdtempSync(join(tmpdir(), 'flagline-k8s-'));
      cpSync(K8S, copy, { recursive: true });
      rmSync(join(copy, 'secrets.env'), { force: true });
    });

    afterAll(() => rmSync(copy, { recursive: true, force: true }));

    it('refuses to render without secrets.env', () => {
      const run = spawnSync('kubectl', ['kustomize', copy], { encoding: 'utf8' });
      expect(run.status).not.toBe(0);
      expect(run.stderr).toContain('secrets.env');
    });

    it('renders the secret from secrets.env and points every reference at its hashed name', () => {
      writeFileSync(join(copy, 'secrets.env'), `ADMIN_API_KEY=${generatedSecret()}\nINTERNAL_API_TOKEN=${generatedSecret()}\n`);
      const rendered = parseAllDocuments(execFileSync('kubectl', ['kustomize', copy], { encoding: 'utf8' })).map((document) => document.toJS() as Json);
      const secret = rendered.find((resource) => resource['kind'] === 'Secret');
      const secretName = (secret?.['metadata'] as { name: string } | undefined)?.name ?? '';
      expect(secretName).toMatch(/^flagline-secrets-[a-z0-9]+$/);
      const text = JSON.stringify(rendered);
      expect(text).not.toMatch(/"name":"flagline-secrets"/);
      expect(text.split(`"name":"${secretName}"`).length - 1).toBeGreaterThanOrEqual(3);
    });
  });

  it('publishes only example secret values a service refuses', () => {
    const values = readFileSync(join(K8S, 'secrets.env.example'), 'utf8')
      .split('\n')
      .filter((line) => /^[A-Z0-9_]+=/.test(line))
      .map((line) => line.slice(line.indexOf('=') + 1));
    expect(values.length).toBeGreaterThan(0);
    for (const value of values) expect(secretProblem('SECRET', value)).toMatch(/placeholder/);
  });
});
