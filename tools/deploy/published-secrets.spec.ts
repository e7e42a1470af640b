// Every secret value the repository publishes as an example (the README, deploy/, compose, the
// fixture logs' READMEs) is refused by the services' secret check, so a deployment that copied
// one does not start with a key anyone can read.
import { secretProblem } from '@flagline/observability';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');

function filesUnder(dir: string, keep: (path: string) => boolean): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return filesUnder(path, keep);
    return keep(path) ? [path] : [];
  });
}

const documents = [
  join(ROOT, 'README.md'),
  join(ROOT, 'docker-compose.yml'),
  ...filesUnder(join(ROOT, 'deploy'), () => true),
  ...filesUnder(join(ROOT, 'apps'), (path) => path.endsWith('README.md') && path.includes(`${join('src', 'sdk', 'fixtures')}`)),
];

/** `NAME=value` of a secret variable, where the value is a literal (not `$(...)`, `${...}` or `...`). */
function publishedSecrets(text: string): string[] {
  return [...text.matchAll(/\b(?:ADMIN_API_KEY|INTERNAL_API_TOKEN|IDENTITY_ID_KEY)=([A-Za-z0-9+/=_-]+)/g)].map((match) => match[1] ?? '');
}

describe('secret values published as examples', () => {
  const found = documents.flatMap((file) => publishedSecrets(readFileSync(file, 'utf8')).map((value) => ({ file: relative(ROOT, file), value })));

  it('are found in the docs, deploy examples and fixture READMEs', () => {
    expect(publishedSecrets('ADMIN_API_KEY=abc INTERNAL_API_TOKEN=$(openssl rand) X=1')).toEqual(['abc']);
    expect(found.map((entry) => entry.file)).toEqual(expect.arrayContaining(['deploy/k8s/secrets.env.example', 'apps/standalone/src/sdk/fixtures/log-2026-12-05/README.md']));
  });

  it('are each refused by the services\' secret check', () => {
    expect(found.filter(({ value }) => secretProblem('ADMIN_API_KEY', value) === undefined)).toEqual([]);
  });
});
