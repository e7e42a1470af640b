// Browser test helpers for specs of the pages (Debian's chromium driven by playwright-core).
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

/** The browser the page specs drive: Debian's chromium, or `CHROMIUM_PATH`. */
export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/** Why the browser specs cannot run here, or undefined when they can. */
export function chromiumUnavailableReason(): string | undefined {
  return existsSync(CHROMIUM_PATH) ? undefined : `no chromium at ${CHROMIUM_PATH} (npm run infra:install installs Debian's chromium; or set CHROMIUM_PATH)`;
}

/**
 * `describe` when chromium is installed; otherwise the suite is reported as skipped with the
 * reason printed, except under `CI=true`, where a missing browser fails the run.
 */
export function describeWithChromium(name: string, body: () => void): void {
  const reason = chromiumUnavailableReason();
  if (reason === undefined) return describe(name, body);
  if (process.env['CI'] === 'true') throw new Error(`${name}: ${reason}`);
  console.warn(`${name}: skipped: ${reason}`);
  describe.skip(`${name} (skipped: ${reason})`, body);
}

/** Headless chromium. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH });
}

/**
 * Collects what a page reports as broken: uncaught script errors and console errors (a
 * Content-Security-Policy violation among them). A failed request with a 4xx status is an answer
 * the page handles (a refused key, a diff the server lacks), so it is not collected.
 */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (entry) => {
    if (entry.type() === 'error' && !/Failed to load resource: the server responded with a status of 4\d\d/.test(entry.text())) errors.push(entry.text());
  });
  page.on('pageerror', (error) => errors.push(String(error)));
  return errors;
}
