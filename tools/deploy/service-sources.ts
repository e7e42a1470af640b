// What a service's own sources say about it, for checking deployment files against them.
import { OPS_PATHS } from '@flagline/observability';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');

/** The non-spec TypeScript of a service (apps/<name>/src), where it reads its configuration. */
export function serviceSources(app: string): string {
  const dir = join(ROOT, 'apps', app, 'src');
  return readdirSync(dir)
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.spec.ts'))
    .map((file) => readFileSync(join(dir, file), 'utf8'))
    .join('\n');
}

/** Secrets a service requires: `read.secret('NAME')` without `optional`. */
export function requiredSecrets(source: string): string[] {
  return [...source.matchAll(/\.secret\('([A-Z0-9_]+)'(, \{ optional: true \})?\)/g)].filter((match) => match[2] === undefined).map((match) => match[1] ?? '');
}

/** The health routes a service answers: the shared operations routes where it serves them, and the literal routes of its own handlers. */
export function servedRoutes(app: string): Set<string> {
  const sources = [serviceSources(app)];
  if (app === 'command-service' || app === 'standalone') sources.push(readFileSync(join(ROOT, 'libs', 'admin', 'api', 'src', 'lib', 'admin-http-app.ts'), 'utf8'));
  const text = sources.join('\n');
  const routes = new Set<string>();
  if (/\b(answerOps|opsMiddleware|createOpsHttpApp|OPS_PATHS)\b/.test(text)) for (const path of OPS_PATHS) routes.add(path);
  for (const match of text.matchAll(/(?:case|@Get\()\s*'\/?((?:health|metrics)[a-z/]*)'/g)) routes.add(`/${match[1] ?? ''}`);
  return routes;
}
