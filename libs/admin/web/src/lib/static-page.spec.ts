import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditPage, PAGE_CONTENT_SECURITY_POLICY, staticPage, type PageHandler } from './static-page';

const AUDIT_ASSETS = join(__dirname, '..', 'assets', 'audit');

/** A server answering with the handler, and 418 for whatever the handler leaves to the next one. */
async function serve(handler: PageHandler): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    if (!handler(request, response)) response.writeHead(418).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** A GET of a path sent as written (fetch would resolve `..` segments before sending). */
function rawGet(url: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(`${url}${path}`, { path }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('auditor page files', () => {
  let url: string;
  let server: Server;
  beforeAll(async () => ({ url, server } = await serve(auditPage())));
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it.each([
    ['/audit/', 'text/html; charset=utf-8'],
    ['/audit/index.html', 'text/html; charset=utf-8'],
    ['/audit/app.js', 'text/javascript; charset=utf-8'],
    ['/audit/views/timeline.js', 'text/javascript; charset=utf-8'],
    ['/audit/style.css', 'text/css; charset=utf-8'],
  ])('serves %s as %s with the strict policy and no-sniff', async (path, type) => {
    const response = await fetch(`${url}${path}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(type);
    expect(response.headers.get('content-security-policy')).toBe(PAGE_CONTENT_SECURITY_POLICY);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(Number(response.headers.get('content-length'))).toBe((await response.arrayBuffer()).byteLength);
  });

  it('allows only its own scripts, styles and connections: no inline code, eval, framing or foreign forms', () => {
    const directives = new Map(PAGE_CONTENT_SECURITY_POLICY.split('; ').map((directive) => [directive.split(' ')[0], directive.split(' ').slice(1).join(' ')]));
    expect(Object.fromEntries(directives)).toEqual({
      'default-src': "'none'",
      'script-src': "'self'",
      'style-src': "'self'",
      'img-src': "'self'",
      'connect-src': "'self'",
      'base-uri': "'none'",
      'form-action': "'none'",
      'frame-ancestors': "'none'",
    });
  });

  it('redirects the bare prefix to the page, keeping the query, and leaves every other path to the next handler', async () => {
    const redirect = await fetch(`${url}/audit?x=1`, { redirect: 'manual' });
    expect(redirect.status).toBe(308);
    expect(redirect.headers.get('location')).toBe('/audit/?x=1');
    for (const path of ['/', '/admin/v1/organisations', '/auditor', '/audit.js']) expect((await fetch(`${url}${path}`)).status).toBe(418);
  });

  it('serves only the files it loaded: unknown files, other kinds and paths out of the directory are 404s in the API error shape', async () => {
    for (const path of ['/audit/missing.js', '/audit/../package.json', '/audit/%2e%2e/%2e%2e/package.json', '/audit/views/', '/audit/views/../app.js%00']) {
      const response = await rawGet(url, path);
      expect([path, response.status]).toEqual([path, 404]);
      expect(JSON.parse(response.body)).toEqual(expect.objectContaining({ statusCode: 404, code: 'FILE.NOT_FOUND' }));
    }
  });

  it('answers HEAD without a body, 405 to other methods, and 304 to a matching If-None-Match', async () => {
    const head = await fetch(`${url}/audit/app.js`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const post = await fetch(`${url}/audit/`, { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect(await post.json()).toEqual(expect.objectContaining({ statusCode: 405, code: 'METHOD_NOT_ALLOWED' }));
    const etag = (await fetch(`${url}/audit/app.js`)).headers.get('etag');
    expect(etag).toMatch(/^"[\w-]{22}"$/);
    expect((await fetch(`${url}/audit/app.js`, { headers: { 'if-none-match': etag ?? '' } })).status).toBe(304);
    expect((await fetch(`${url}/audit/app.js`, { headers: { 'if-none-match': '"other"' } })).status).toBe(200);
  });
});

describe('auditor page sources', () => {
  /** Every file of the page with its text. */
  const sources = async (): Promise<[string, string][]> => {
    const names = (await readdir(AUDIT_ASSETS, { recursive: true })).filter((name) => /\.(js|html)$/.test(name));
    return Promise.all(names.map(async (name) => [name, await readFile(join(AUDIT_ASSETS, name), 'utf8')] as [string, string]));
  };

  it('never parses text as markup: no innerHTML, outerHTML, insertAdjacentHTML, document.write or eval in any module', async () => {
    const found = (await sources()).flatMap(([name, text]) => [...text.matchAll(/\b(innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function)\b/g)].map((hit) => `${name}: ${hit[1]}`));
    expect(found).toEqual([]);
  });

  it('has no inline script, style or event handler attribute for the policy to block', async () => {
    const [, html] = (await sources()).find(([name]) => name === 'index.html') ?? ['', ''];
    expect(html).toContain('<script type="module" src="./app.js"></script>');
    expect([...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>/g)]).toEqual([]);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
  });

  it('imports only modules that exist, by relative path (no bare specifiers a browser cannot resolve)', async () => {
    const all = await sources();
    const names = new Set(all.map(([name]) => name));
    const broken = all.flatMap(([name, text]) =>
      [...text.matchAll(/^import\s[^'"]*['"]([^'"]+)['"]/gm)]
        .map((hit) => hit[1] ?? '')
        .filter((specifier) => !specifier.startsWith('./') && !specifier.startsWith('../') ? true : !names.has(join(name, '..', specifier)))
        .map((specifier) => `${name} imports ${specifier}`),
    );
    expect(broken).toEqual([]);
  });
});

describe('static pages', () => {
  it('load their files once, at start: a file added later is not served', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'flagline-page-'));
    try {
      await mkdir(join(directory, 'nested'));
      await writeFile(join(directory, 'index.html'), '<p>hello</p>');
      await writeFile(join(directory, 'nested', 'a.js'), 'export {};');
      await writeFile(join(directory, 'secret.txt'), 'not a page file');
      const { url, server } = await serve(staticPage({ prefix: '/page/', directory }));
      try {
        await writeFile(join(directory, 'later.js'), 'export {};');
        expect(await (await fetch(`${url}/page/`)).text()).toBe('<p>hello</p>');
        expect((await fetch(`${url}/page/nested/a.js`)).status).toBe(200);
        expect((await fetch(`${url}/page/secret.txt`)).status).toBe(404);
        expect((await fetch(`${url}/page/later.js`)).status).toBe(404);
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
