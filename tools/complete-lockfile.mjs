// Completes package-lock.json with the other platforms' optional native packages (@swc/core-*,
// @nx/nx-*, @unrs/resolver-binding-*, ...). npm records them only when it can fetch their
// manifests; where the registry cannot serve some of them, the lockfile lacks them and `npm ci`
// then refuses it as out of sync. Each missing entry is placed where its present siblings resolve,
// at the version the parent declares, tagged with its platform so npm installs it only there.
// Run after `npm install`: `npm run lockfile:complete`.
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const packages = lock.packages;

/** Where `name` resolves from the package at `path`, walking up node_modules folders. */
function resolve(path, name) {
  let base = path;
  for (;;) {
    const candidate = `${base}${base ? '/' : ''}node_modules/${name}`;
    if (packages[candidate]) return candidate;
    const at = base.lastIndexOf('node_modules/');
    if (at === -1) return null;
    base = base.slice(0, at).replace(/\/$/, '');
  }
}

function platformOf(name) {
  const leaf = name.split('/').pop();
  const os = /-(darwin|linux|win32|android|freebsd|openharmony|sunos|aix)(?=-|$)/.exec(leaf)?.[1];
  const cpu = /-(arm64|x64|arm|ia32|ppc64|s390x|riscv64|loong64|wasm32)(?=-|$)/.exec(leaf)?.[1];
  const libc = /-musl/.test(leaf) ? 'musl' : /-gnu/.test(leaf) && os === 'linux' ? 'glibc' : undefined;
  return { os, cpu, libc };
}

let added = 0;
for (const [path, entry] of Object.entries(packages)) {
  const optional = entry.optionalDependencies;
  if (!path || !optional) continue;
  const names = Object.keys(optional);
  const present = names.map((name) => resolve(path, name)).find(Boolean);
  if (!present) continue;
  const folder = present.slice(0, present.lastIndexOf('node_modules/') + 'node_modules/'.length);
  for (const name of names) {
    if (resolve(path, name)) continue;
    const { os, cpu, libc } = platformOf(name);
    if (!os && !cpu) continue;
    packages[`${folder}${name}`] = {
      version: optional[name].replace(/^[\^~=]/, ''),
      ...(entry.dev ? { dev: true } : {}),
      optional: true,
      ...(cpu ? { cpu: [cpu] } : {}),
      ...(os ? { os: [os] } : {}),
      ...(libc ? { libc: [libc] } : {}),
    };
    added++;
  }
}

const sorted = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)));
lock.packages = sorted;
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`package-lock.json: ${added} optional platform entr${added === 1 ? 'y' : 'ies'} added`);
