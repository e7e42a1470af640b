// deploy/compose/evaluation-lb.conf (the compose balancer in front of the evaluation replicas),
// parsed: it must re-resolve Docker's DNS and pass a request a not-ready or gone replica refused
// to another one, boundedly. No nginx or Docker here: the directives are read from the file.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';

const ROOT = resolve(__dirname, '..', '..');

interface Directive {
  readonly name: string;
  readonly args: readonly string[];
  /** The enclosing blocks' names, outermost first (`server`, `location`). */
  readonly context: readonly string[];
}

/** nginx's configuration grammar, as far as this file needs: `name args;` and `name args { ... }`, `#` comments, quoted strings. */
function parseNginx(text: string): Directive[] {
  const tokens = [...text.replace(/#[^\n]*/g, '').matchAll(/"(?:[^"\\]|\\.)*"|'[^']*'|[{};]|[^\s{};]+/g)].map((match) => match[0]);
  const directives: Directive[] = [];
  const context: string[] = [];
  let words: string[] = [];
  for (const token of tokens) {
    if (token === ';') {
      const [name, ...args] = words;
      if (name === undefined) throw new Error('empty directive');
      directives.push({ name, args, context: [...context] });
      words = [];
    } else if (token === '{') {
      const [name] = words;
      if (name === undefined) throw new Error('block without a name');
      context.push(name);
      words = [];
    } else if (token === '}') {
      if (words.length > 0 || context.pop() === undefined) throw new Error('unbalanced }');
    } else {
      words.push(token);
    }
  }
  if (words.length > 0 || context.length > 0) throw new Error('unterminated directive or block');
  return directives;
}

const conf = parseNginx(readFileSync(join(ROOT, 'deploy', 'compose', 'evaluation-lb.conf'), 'utf8'));
const inLocation = (name: string): Directive[] => conf.filter((directive) => directive.name === name && directive.context.join('/') === 'server/location');

describe('the compose balancer (deploy/compose/evaluation-lb.conf)', () => {
  it('parses the grammar it is checked with', () => {
    expect(parseNginx('a 1; b { c "x;y"; }')).toEqual([
      { name: 'a', args: ['1'], context: [] },
      { name: 'c', args: ['"x;y"'], context: ['b'] },
    ]);
    expect(() => parseNginx('a { b;')).toThrow();
  });

  it('re-resolves Docker\'s DNS every few seconds, through a variable so nginx resolves at run time', () => {
    const resolver = conf.find((directive) => directive.name === 'resolver');
    expect(resolver?.args[0]).toBe('127.0.0.11');
    const valid = Number(/^valid=(\d+)s$/.exec(resolver?.args.find((arg) => arg.startsWith('valid=')) ?? '')?.[1]);
    expect(valid).toBeGreaterThan(0);
    expect(valid).toBeLessThanOrEqual(5);
    const [pass] = inLocation('proxy_pass');
    expect(pass?.args[0]).toMatch(/^\$\w+$/);
    const variable = inLocation('set').find((directive) => directive.args[0] === pass?.args[0]);
    expect(variable?.args[1]).toBe('http://evaluation-service:8002');
  });

  it('passes a request a replica refused, answered 502/503 to, or let time out to the next replica, POSTs included', () => {
    const [next] = inLocation('proxy_next_upstream');
    expect(next?.args).toEqual(expect.arrayContaining(['error', 'timeout', 'http_502', 'http_503', 'non_idempotent']));
  });

  it('bounds the retries in tries and time', () => {
    const tries = Number(inLocation('proxy_next_upstream_tries')[0]?.args[0]);
    expect(tries).toBeGreaterThanOrEqual(2);
    expect(tries).toBeLessThanOrEqual(5);
    expect(inLocation('proxy_next_upstream_timeout')[0]?.args[0]).toMatch(/^[1-9]\d*s$/);
    expect(inLocation('proxy_connect_timeout')[0]?.args[0]).toMatch(/^[1-9]\d*s$/);
  });

  it('is the configuration compose mounts into its nginx', () => {
    const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, { image?: string; volumes?: string[] }> };
    const balancer = compose.services['evaluation-lb'];
    expect(balancer?.image).toMatch(/^nginx:/);
    expect(balancer?.volumes).toContain('./deploy/compose/evaluation-lb.conf:/etc/nginx/conf.d/default.conf:ro');
  });
});
