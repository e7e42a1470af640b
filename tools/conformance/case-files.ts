import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Every `*.json` / `*.jsonc` file under `directory`, recursively, in a stable (sorted) order. */
export function findCaseFiles(directory: string): string[] {
  const files: string[] = [];
  const entries = readdirSync(directory, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) files.push(...findCaseFiles(path));
    else if (entry.isFile() && /\.jsonc?$/.test(entry.name)) files.push(path);
  }
  return files;
}
