// apps/*/Dockerfile: the HEALTHCHECK Docker runs decides `healthy`, which compose's depends_on
// (service_healthy) waits for, so a distributed service's is its readiness route, and every
// image's asks a route its service answers.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { servedRoutes } from './service-sources';

const ROOT = resolve(__dirname, '..', '..');
const DISTRIBUTED = ['command-service', 'relay', 'projector', 'evaluation-service'];
const apps = readdirSync(join(ROOT, 'apps')).filter((app) => existsSync(join(ROOT, 'apps', app, 'Dockerfile')));

/** The paths a Dockerfile's HEALTHCHECK command asks (continuation lines joined). */
function healthcheckPaths(dockerfile: string): string[] {
  const instruction = dockerfile.replace(/\\\n/g, ' ').split('\n').find((line) => line.startsWith('HEALTHCHECK '));
  return [...(instruction ?? '').matchAll(/127\.0\.0\.1:'\s*\+\s*process\.env\.PORT\s*\+\s*'(\/[a-z/]*)'/g)].map((match) => match[1] ?? '');
}

describe('apps/*/Dockerfile', () => {
  it('exist for the four distributed services and the standalone app', () => {
    expect(apps).toEqual(expect.arrayContaining([...DISTRIBUTED, 'standalone']));
  });

  it('reads the path of a HEALTHCHECK', () => {
    expect(healthcheckPaths(`HEALTHCHECK --interval=1s \\\n  CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/health/live')"\nCMD ["x"]`)).toEqual(['/health/live']);
  });

  describe.each(apps)('%s', (app) => {
    const paths = healthcheckPaths(readFileSync(join(ROOT, 'apps', app, 'Dockerfile'), 'utf8'));

    it('has a HEALTHCHECK asking a route the service answers', () => {
      expect(paths).toHaveLength(1);
      expect(paths.filter((path) => !servedRoutes(app).has(path))).toEqual([]);
    });

    if (DISTRIBUTED.includes(app)) {
      it('is healthy only while ready (/health/ready, not /health, which answers 200 while the process runs)', () => {
        expect(paths).toEqual(['/health/ready']);
      });
    }
  });
});
