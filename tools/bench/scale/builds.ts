import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A tree whose dist/ is measured: the current tree, or a git ref checked out in a worktree. */
export interface Build {
  readonly label: string;
  readonly root: string;
  /** What was built: a commit, or the current tree (with its uncommitted changes). */
  readonly describe: string;
  readonly scripts: Readonly<Record<string, string>>;
}

function run(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

function scriptsOf(root: string): Record<string, string> {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  return manifest.scripts ?? {};
}

/**
 * The Node options a build's `npm start` gives the standalone app (`node <options> dist/…/main.js`),
 * so the benchmarks start every build, the code from before a change included, as it starts
 * itself; none when its start script is not of that shape.
 */
export function startOptionsOf(root: string): string[] {
  const words = (scriptsOf(root)['start'] ?? '').trim().split(/\s+/);
  const main = words.indexOf('dist/apps/standalone/src/main.js');
  if (words[0] !== 'node' || main === -1) return [];
  return words.slice(1, main).filter((word) => word.startsWith('--'));
}

/** The tree itself, built into its dist/ unless `build` is false (then dist/ must exist). */
export function currentTree(root: string, build: boolean): Build {
  if (build) {
    console.error(`building ${root} …`);
    run(process.execPath, ['tools/build.mjs'], root);
  }
  if (!existsSync(join(root, 'dist/apps/standalone/src/main.js'))) throw new Error(`${root}/dist has no standalone app: run npm run build`);
  const head = run('git', ['rev-parse', '--short', 'HEAD'], root);
  const dirty = run('git', ['status', '--porcelain', '--untracked-files=no'], root) !== '';
  return { label: 'now', root, describe: `${head}${dirty ? ' + uncommitted changes' : ''}`, scripts: scriptsOf(root) };
}

type PathMap = Record<string, string[]>;
const pathsOf = (root: string): PathMap =>
  (JSON.parse(readFileSync(join(root, 'tsconfig.base.json'), 'utf8')) as { compilerOptions: { paths: PathMap } }).compilerOptions.paths;

/**
 * Adds to the worktree's tsconfig.base.json the path mappings the main tree has for libraries the
 * worktree holds but does not map: 71022cc lost @flagline/http-edge's (0065f8a put it back), and
 * without it the build leaves a bare require of it that fails at start. Returns the names added.
 */
function completePathMappings(mainRoot: string, root: string): string[] {
  const file = join(root, 'tsconfig.base.json');
  const config = JSON.parse(readFileSync(file, 'utf8')) as { compilerOptions: { paths: PathMap } };
  const added: string[] = [];
  for (const [alias, targets] of Object.entries(pathsOf(mainRoot))) {
    const target = targets[0];
    if (config.compilerOptions.paths[alias] === undefined && target !== undefined && existsSync(join(root, target))) {
      config.compilerOptions.paths[alias] = targets;
      added.push(alias);
    }
  }
  if (added.length > 0) writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
  return added;
}

/**
 * `ref` checked out (detached) in a worktree under /tmp, with the main tree's node_modules linked
 * in and built. A worktree already made for the same commit is reused, its build too.
 */
export function refTree(mainRoot: string, ref: string): Build {
  const commit = run('git', ['rev-parse', '--verify', `${ref}^{commit}`], mainRoot);
  const short = commit.slice(0, 7);
  const root = `/tmp/flagline-bench-${short}`;
  if (!existsSync(join(root, '.git'))) {
    console.error(`checking out ${ref} (${short}) in ${root} …`);
    run('git', ['worktree', 'add', '--detach', root, commit], mainRoot);
  }
  if (!existsSync(join(root, 'node_modules'))) symlinkSync(join(mainRoot, 'node_modules'), join(root, 'node_modules'));
  const built = join(root, 'dist/.bench-scale-built');
  if (!existsSync(built)) {
    const added = completePathMappings(mainRoot, root);
    if (added.length > 0) console.error(`  path mappings added to its tsconfig.base.json: ${added.join(', ')}`);
    console.error(`building ${short} …`);
    run(process.execPath, ['tools/build.mjs'], root);
    writeFileSync(built, `${commit}\n`);
  }
  return { label: 'before', root, describe: short, scripts: scriptsOf(root) };
}
