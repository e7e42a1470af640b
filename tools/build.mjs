// Compiles apps/ and libs/ to dist/ with SWC (decorator metadata for NestJS, path aliases
// rewritten to relative requires). Type checking is `npm run typecheck`; this only emits.
import { transformFile } from '@swc/core';
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const out = join(root, 'dist');
const { compilerOptions } = JSON.parse(await readFile(join(root, 'tsconfig.base.json'), 'utf8'));

async function* sources(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(path);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') && !entry.name.endsWith('.d.ts')) yield path;
  }
}

await rm(out, { recursive: true, force: true });
const files = [];
for (const top of ['apps', 'libs']) for await (const file of sources(join(root, top))) files.push(file);

await Promise.all(
  files.map(async (file) => {
    const { code, map } = await transformFile(file, {
      swcrc: false,
      sourceMaps: true,
      module: { type: 'commonjs' },
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
        target: 'es2022',
        keepClassNames: true,
        baseUrl: root,
        paths: compilerOptions.paths,
      },
    });
    const target = join(out, relative(root, file)).replace(/\.ts$/, '.js');
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, `${code}\n//# sourceMappingURL=${target.split('/').pop()}.map\n`);
    if (map) await writeFile(`${target}.map`, map);
  }),
);
// Static files a library serves as they are (the auditor page's HTML, ES modules and CSS in
// `src/assets`), copied beside the compiled code that reads them.
async function* assetDirectories(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    if (entry.name === 'assets' && basename(dir) === 'src') yield path;
    else yield* assetDirectories(path);
  }
}
for await (const assets of assetDirectories(join(root, 'libs'))) await cp(assets, join(out, relative(root, assets)), { recursive: true });
console.log(`built ${files.length} files into ${relative(root, out)}/`);
