// docker-compose.yml checked against the services' sources: secrets only where read and only
// from the operator's environment (no default), kurrentdb:// connection strings, healthchecks on
// routes the services answer.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { requiredSecrets, servedRoutes, serviceSources } from './service-sources';

const ROOT = resolve(__dirname, '..', '..');
const SERVICES = ['command-service', 'relay', 'projector', 'evaluation-service'];
const SECRET_VARIABLES = ['ADMIN_API_KEY', 'INTERNAL_API_TOKEN', 'IDENTITY_ID_KEY', 'TRANSPARENCY_SIGNING_KEY'];

interface ComposeService {
  readonly environment?: Record<string, string | number>;
  readonly healthcheck?: { readonly test?: readonly string[] };
}

const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, ComposeService> };

describe('docker-compose.yml', () => {
  it('names EventStoreDB with kurrentdb://', () => {
    const connections = Object.values(compose.services).flatMap((service) => (service.environment?.['EVENTSTORE_CONNECTION_STRING'] !== undefined ? [String(service.environment['EVENTSTORE_CONNECTION_STRING'])] : []));
    expect(connections.length).toBeGreaterThan(0);
    expect(connections.filter((connection) => !connection.startsWith('kurrentdb://'))).toEqual([]);
  });

  describe.each(SERVICES)('%s', (name) => {
    const service = compose.services[name];
    const environment = service?.environment ?? {};
    const source = serviceSources(name);
    const secrets = Object.keys(environment).filter((variable) => SECRET_VARIABLES.includes(variable));

    it('gets only the secrets it reads, and every one it requires', () => {
      expect(secrets.filter((variable) => !source.includes(`'${variable}'`))).toEqual([]);
      expect(requiredSecrets(source).filter((variable) => !secrets.includes(variable))).toEqual([]);
    });

    it('takes each secret from the operator\'s environment, with no default to fall back on', () => {
      for (const variable of secrets) expect(String(environment[variable])).toMatch(new RegExp(`^\\$\\{${variable}:\\?`));
    });

    it('checks its health on a route it answers', () => {
      const test = (service?.healthcheck?.test ?? []).join(' ');
      const paths = [...test.matchAll(/127\.0\.0\.1:\d+(\/[a-z/]+)/g)].map((match) => match[1] ?? '');
      expect(paths.length).toBeGreaterThan(0);
      expect(paths.filter((path) => !servedRoutes(name).has(path))).toEqual([]);
    });
  });
});
