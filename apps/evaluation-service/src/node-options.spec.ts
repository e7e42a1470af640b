import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments, parse } from 'yaml';
import { EVALUATION_SERVICE_NODE_OPTIONS } from './node-options';

/**
 * The evaluation service's Node options hold wherever it is started: the image's CMD runs them, and
 * Compose and Kubernetes run that CMD as it is (no command or args of their own).
 */
const ROOT = resolve(__dirname, '..', '..', '..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

describe('the evaluation service node options', () => {
  it('are options this Node takes', () => {
    const run = spawnSync(process.execPath, [...EVALUATION_SERVICE_NODE_OPTIONS, '-e', ''], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it("are in the image's CMD", () => {
    const cmd = read('apps/evaluation-service/Dockerfile')
      .split('\n')
      .find((line) => line.startsWith('CMD '));
    expect(JSON.parse((cmd ?? '').slice('CMD '.length))).toEqual(['node', ...EVALUATION_SERVICE_NODE_OPTIONS, 'dist/apps/evaluation-service/src/main.js']);
  });

  it('are not replaced by Compose or Kubernetes, which run the image as it is', () => {
    const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Record<string, unknown>> };
    const service = compose.services['evaluation-service'];
    expect(service).toBeDefined();
    expect(service?.['command']).toBeUndefined();
    expect(service?.['entrypoint']).toBeUndefined();
    const containers = parseAllDocuments(read('deploy/k8s/evaluation-service.yaml'))
      .map((document) => document.toJS() as { kind?: string; spec?: { template?: { spec?: { containers?: Record<string, unknown>[] } } } })
      .filter((document) => document.kind === 'Deployment')
      .flatMap((document) => document.spec?.template?.spec?.containers ?? []);
    expect(containers.map((container) => container['name'])).toContain('evaluation-service');
    for (const container of containers) {
      expect(container['command']).toBeUndefined();
      expect(container['args']).toBeUndefined();
      const env = (container['env'] ?? []) as { name: string }[];
      expect(env.map((entry) => entry.name)).not.toContain('NODE_OPTIONS');
    }
  });
});
