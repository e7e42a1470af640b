import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, relative, sep } from 'node:path';

/** Content types of the files a page may ship; a file of any other kind is not served. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * What the page may do: its own scripts, styles and images, and requests to its own origin (the
 * admin API). No inline script or style, no eval, no plugins, no framing, no form posts elsewhere,
 * no `<base>`: a name that slipped through as markup could still run nothing.
 */
export const PAGE_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': PAGE_CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

interface Asset {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
}

/** Every servable file under a directory, by its path relative to it (with `/`). */
function loadAssets(directory: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const entry of readdirSync(directory, { recursive: true, withFileTypes: true })) {
    const type = CONTENT_TYPES[extname(entry.name)];
    if (!entry.isFile() || type === undefined) continue;
    const path = join(entry.parentPath, entry.name);
    const body = readFileSync(path);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    assets.set(relative(directory, path).split(sep).join('/'), { body, type, etag });
  }
  return assets;
}

function answerError(response: ServerResponse, statusCode: number, error: string, code: string, message: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify({ statusCode, error, code, message });
  response.writeHead(statusCode, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), ...SECURITY_HEADERS, ...headers });
  response.end(body);
}

/** Answers the requests under its path prefix and returns true; returns false for any other request. */
export type PageHandler = (request: IncomingMessage, response: ServerResponse) => boolean;

export interface StaticPageOptions {
  /** Where the page is served, ending with `/` (the bare prefix is redirected there). */
  readonly prefix: string;
  /** The directory of the page's files; `index.html` answers the prefix itself. */
  readonly directory: string;
}

/**
 * A page of static files read once at start: only the files found then are served (a path is a
 * key, never joined onto the file system, so no request reaches outside the directory), with their
 * content type, an ETag, a strict Content-Security-Policy and `Cache-Control: no-cache`. The files
 * are public; the data the page shows comes from the admin API, which asks for a key.
 */
export function staticPage(options: StaticPageOptions): PageHandler {
  const assets = loadAssets(options.directory);
  const bare = options.prefix.slice(0, -1);
  return (request, response) => {
    const url = request.url ?? '/';
    const query = url.indexOf('?');
    const pathname = query === -1 ? url : url.slice(0, query);
    if (pathname === bare) {
      response.writeHead(308, { location: `${options.prefix}${query === -1 ? '' : url.slice(query)}`, 'content-length': 0, ...SECURITY_HEADERS });
      response.end();
      return true;
    }
    if (!pathname.startsWith(options.prefix)) return false;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      answerError(response, 405, 'Method Not Allowed', 'METHOD_NOT_ALLOWED', `${options.prefix} serves files: use GET or HEAD`, { allow: 'GET, HEAD' });
      return true;
    }
    const asset = assets.get(pathname.slice(options.prefix.length) || 'index.html');
    if (!asset) {
      answerError(response, 404, 'Not Found', 'FILE.NOT_FOUND', `No file ${pathname}`);
      return true;
    }
    const headers = { etag: asset.etag, 'cache-control': 'no-cache', ...SECURITY_HEADERS };
    if (request.headers['if-none-match'] === asset.etag) {
      response.writeHead(304, headers);
      response.end();
      return true;
    }
    response.writeHead(200, { ...headers, 'content-type': asset.type, 'content-length': asset.body.length });
    response.end(request.method === 'HEAD' ? undefined : asset.body);
    return true;
  };
}

/** Where the auditor page is served. */
export const AUDIT_PAGE_PREFIX = '/audit/';

/** The auditor page: an entity's history as a timeline with the diff of each change, and a project as of a point in time. */
export function auditPage(): PageHandler {
  return staticPage({ prefix: AUDIT_PAGE_PREFIX, directory: join(__dirname, '..', 'assets', 'audit') });
}
