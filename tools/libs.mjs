// Single list of the workspace's projects: writes each project.json and the tsconfig path aliases.
// Run `node tools/libs.mjs` after adding a project here.
import { mkdirSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const libs = [
  { name: 'event-sourcing', dir: 'libs/shared/event-sourcing', tags: ['scope:shared', 'type:util'], testing: true },
  { name: 'event-store-embedded', dir: 'libs/shared/event-store-embedded', tags: ['scope:shared', 'type:data-access'] },
  { name: 'event-store-eventstoredb', dir: 'libs/shared/event-store-eventstoredb', tags: ['scope:shared', 'type:data-access'] },
  { name: 'message-bus-kafka', dir: 'libs/shared/message-bus-kafka', tags: ['scope:shared', 'type:data-access'] },
  { name: 'read-model', dir: 'libs/shared/read-model', tags: ['scope:shared', 'type:data-access'], testing: true },
  { name: 'read-model-sqlite', dir: 'libs/shared/read-model-sqlite', tags: ['scope:shared', 'type:data-access'] },
  { name: 'state-store-sqlite', dir: 'libs/shared/state-store-sqlite', tags: ['scope:shared', 'type:data-access'] },
  { name: 'read-model-redis', dir: 'libs/shared/read-model-redis', tags: ['scope:shared', 'type:data-access'] },
  { name: 'observability', dir: 'libs/shared/observability', tags: ['scope:shared', 'type:data-access'] },
  { name: 'python-compat', dir: 'libs/shared/python-compat', tags: ['scope:shared', 'type:util'] },
  { name: 'contracts', dir: 'libs/contracts', tags: ['scope:shared', 'type:contracts'] },
  { name: 'admin-domain', dir: 'libs/admin/domain', tags: ['scope:admin', 'type:domain'], testing: true },
  { name: 'admin-projections', dir: 'libs/admin/projections', tags: ['scope:admin', 'type:projection'] },
  { name: 'admin-application', dir: 'libs/admin/application', tags: ['scope:admin', 'type:application'] },
  { name: 'admin-api', dir: 'libs/admin/api', tags: ['scope:admin', 'type:feature'] },
  { name: 'evaluation-engine', dir: 'libs/evaluation/engine', tags: ['scope:evaluation', 'type:domain'] },
  { name: 'evaluation-application', dir: 'libs/evaluation/application', tags: ['scope:evaluation', 'type:application'] },
  { name: 'evaluation-http', dir: 'libs/evaluation/http', tags: ['scope:evaluation', 'type:feature'] },
];

export const apps = [
  { name: 'command-service', dir: 'apps/command-service', tags: ['scope:admin', 'type:app'] },
  { name: 'projector', dir: 'apps/projector', tags: ['scope:admin', 'type:app'] },
  { name: 'relay', dir: 'apps/relay', tags: ['scope:shared', 'type:app'] },
  { name: 'evaluation-service', dir: 'apps/evaluation-service', tags: ['scope:evaluation', 'type:app'] },
  { name: 'standalone', dir: 'apps/standalone', tags: ['scope:platform', 'type:app'] },
  { name: 'distributed-e2e', dir: 'apps/distributed-e2e', tags: ['scope:platform', 'type:app'] },
];

function writeProject(p, projectType) {
  mkdirSync(join(p.dir, 'src'), { recursive: true });
  const project = {
    name: p.name,
    $schema: '../../node_modules/nx/schemas/project-schema.json'.replace(/^/, '../'.repeat(p.dir.split('/').length - 2)),
    sourceRoot: `${p.dir}/src`,
    projectType,
    tags: p.tags,
  };
  writeFileSync(join(p.dir, 'project.json'), JSON.stringify(project, null, 2) + '\n');
  const index = join(p.dir, 'src', projectType === 'library' ? 'index.ts' : 'main.ts');
  if (!existsSync(index)) writeFileSync(index, 'export {};\n');
  if (p.testing && !existsSync(join(p.dir, 'src', 'testing.ts'))) writeFileSync(join(p.dir, 'src', 'testing.ts'), 'export {};\n');
}

for (const lib of libs) writeProject(lib, 'library');
for (const app of apps) writeProject(app, 'application');

const base = JSON.parse(readFileSync('tsconfig.base.json', 'utf8'));
const paths = {};
for (const lib of libs) {
  paths[`@flagline/${lib.name}`] = [`${lib.dir}/src/index.ts`];
  if (lib.testing) paths[`@flagline/${lib.name}/testing`] = [`${lib.dir}/src/testing.ts`];
}
// The integration-test helpers live in tools/infra (an Nx project of their own).
paths['@flagline/infra-testing'] = ['tools/infra/infra.testing.ts'];
base.compilerOptions.paths = paths;
writeFileSync('tsconfig.base.json', JSON.stringify(base, null, 2) + '\n');
