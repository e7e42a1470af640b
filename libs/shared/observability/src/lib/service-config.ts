import { randomBytes } from 'node:crypto';

/** A configuration problem found at start: the service stops with a message naming the variable. */
export class ConfigError extends Error {
  /** The variables the problems name, in the order found (a problem may name none). */
  readonly variables: readonly string[];

  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.variables = [...new Set(problems.map(variableOf).filter((name): name is string => name !== undefined))];
  }
}

/** The variable a problem message starts with (`ADMIN_API_KEY is required` → `ADMIN_API_KEY`). */
function variableOf(problem: string): string | undefined {
  return /^([A-Z][A-Z0-9_]*)\b/.exec(problem)?.[1];
}

/**
 * An address as it may be printed: whatever stands between the scheme's `//` (or the start) and
 * the last `@` (the user name and password) is left out, whether or not the address parses, so
 * a multi-host connection string or a malformed URL gives nothing away either.
 */
export function loggableAddress(address: string): string {
  const schemeEnd = address.indexOf('://');
  const start = schemeEnd >= 0 ? schemeEnd + 3 : 0;
  const at = address.lastIndexOf('@');
  return at < start ? address : address.slice(0, start) + address.slice(at + 1);
}

/** A message that may quote `address` (a driver's error): every copy of it, and any `//user:password@`, redacted. */
export function redactCredentials(text: string, address?: string): string {
  const quoted = address && address !== loggableAddress(address) ? text.split(address).join(loggableAddress(address)) : text;
  return quoted.replace(/\/\/[^\s/@"']*:[^\s@"']*@/g, '//');
}

/**
 * Secret values published as examples (deploy/, the README, the fixture logs' READMEs and the
 * specs that once used them as valid keys): a deployment that forgot to set its own secret, or
 * copied one from the docs, would otherwise run with a key anyone can read. A service refuses
 * to start with one.
 */
export const PLACEHOLDER_SECRETS: readonly string[] = [
  'change-me-at-least-16-characters',
  'replace-with-output-of-openssl-rand-base64-32',
  'golden-admin-key-0123456789abcdef',
  'sealed-admin-key-0123456789abcdef',
  'fixture-admin-key-0123456789',
  'walkthrough-admin-key-0123456789',
  'Zq3n9Vb2Lr7Tx1Wc5Hy8Kp4M',
  'Hy8Kp4MZq3n9Vb2Lr7Tx1Wc5',
];

/** Secrets shorter than this are refused: 16 characters of base64 is 96 bits. */
export const MIN_SECRET_LENGTH = 16;

/** Fewer different characters than this is a typed pattern (`aaaaaaaaaaaaaaaa`, `0123012301230123`), not a generated secret. */
export const MIN_SECRET_DISTINCT_CHARACTERS = 10;

const PLACEHOLDER_PATTERN = /change[-_ ]?me|replace[-_ ]?with|placeholder/i;

/** The length of the shortest unit the value repeats (`abcabcabc` → 3); the value's length when it repeats none. */
function repeatedUnit(value: string): number {
  for (let unit = 1; unit <= value.length / 2; unit++) {
    if (value.length % unit === 0 && value.slice(0, unit).repeat(value.length / unit) === value) return unit;
  }
  return value.length;
}

/** A secret as `openssl rand -base64 32` makes one (for tests and generated keys): 32 random bytes, base64. */
export function generatedSecret(): string {
  return randomBytes(32).toString('base64');
}

/** Why a secret's value must not be used, or undefined when it may. */
export function secretProblem(name: string, value: string): string | undefined {
  if (PLACEHOLDER_SECRETS.includes(value) || PLACEHOLDER_PATTERN.test(value)) {
    return `${name} is a published placeholder value; generate one (openssl rand -base64 32)`;
  }
  if (value.length < MIN_SECRET_LENGTH) return `${name} must be at least ${MIN_SECRET_LENGTH} characters`;
  if (new Set(value).size < MIN_SECRET_DISTINCT_CHARACTERS || repeatedUnit(value) < value.length) {
    return `${name} is too weak: a repeated pattern or fewer than ${MIN_SECRET_DISTINCT_CHARACTERS} different characters; generate one (openssl rand -base64 32)`;
  }
  return undefined;
}

/**
 * Reads a service's configuration from the environment and fails fast: every problem is
 * collected, then reported at once.
 */
export class EnvReader {
  private readonly problems: string[] = [];

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  string(name: string, fallback?: string): string {
    const value = this.env[name]?.trim();
    if (value) return value;
    if (fallback !== undefined) return fallback;
    this.problems.push(`${name} is required`);
    return '';
  }

  optional(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value ? value : undefined;
  }

  integer(name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const raw = this.env[name]?.trim();
    if (!raw) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      this.problems.push(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  }

  /** A URL of one of `protocols`; a problem quotes it without its user name and password. */
  url(name: string, protocols: readonly string[], fallback?: string): string {
    const value = this.string(name, fallback);
    if (!value) return value;
    try {
      const parsed = new URL(value);
      if (!protocols.includes(parsed.protocol.replace(/:$/, ''))) this.problems.push(`${name} must use ${protocols.join(' or ')}, got "${loggableAddress(value)}"`);
    } catch {
      this.problems.push(`${name} is not a valid URL: "${loggableAddress(value)}"`);
    }
    return value;
  }

  /**
   * A connection string a driver parses (`problemOf` is its parser's verdict, undefined when it
   * accepts the string); a problem quotes it without its user name and password.
   */
  connectionString(name: string, problemOf: (value: string) => string | undefined, fallback?: string): string {
    const value = this.string(name, fallback);
    if (!value) return value;
    const problem = problemOf(value);
    if (problem !== undefined) this.problems.push(`${name} is not a valid connection string (${problem}): "${loggableAddress(value)}"`);
    return value;
  }

  /** `host:port` list, comma separated (e.g. KAFKA_BROKERS). */
  hostPorts(name: string, fallback?: string): string[] {
    const value = this.string(name, fallback);
    if (!value) return [];
    const list = value.split(',').map((entry) => entry.trim()).filter(Boolean);
    for (const entry of list) {
      if (!/^[^\s:]+:\d{1,5}$/.test(entry)) this.problems.push(`${name} must be host:port[,host:port...], got "${entry}"`);
    }
    return list;
  }

  /** A secret: required (unless optional), at least 16 characters, and not a published placeholder. */
  secret(name: string, options: { readonly optional?: boolean } = {}): string | undefined {
    const value = options.optional ? this.optional(name) : this.string(name);
    if (!value) return undefined;
    const problem = secretProblem(name, value);
    if (problem !== undefined) this.problems.push(problem);
    return value;
  }

  /** `true`/`false` (also 1/0, yes/no). */
  boolean(name: string, fallback: boolean): boolean {
    const raw = this.env[name]?.trim().toLowerCase();
    if (!raw) return fallback;
    if (['true', '1', 'yes'].includes(raw)) return true;
    if (['false', '0', 'no'].includes(raw)) return false;
    this.problems.push(`${name} must be true or false, got "${raw}"`);
    return fallback;
  }

  /** Records a problem the caller found (a rule across variables, an unknown choice). */
  problem(message: string): void {
    this.problems.push(message);
  }

  /** Throws one `ConfigError` listing every problem found so far. */
  done(): void {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
  }
}

/** How a service that may create the event topics creates them (the relay and the projector read the same variables). */
export interface KafkaTopicSettings {
  /** `KAFKA_PARTITIONS` (default 6): partitions of the event topic, the bound of a projector group's parallelism. */
  readonly partitions: number;
  /** `KAFKA_REPLICATION_FACTOR`: replicas of a created topic; unset, the broker's `default.replication.factor`. */
  readonly replicationFactor?: number;
  /** `KAFKA_CREATE_TOPICS` (default true): false where operators create the topics themselves. */
  readonly createTopics: boolean;
}

export function readKafkaTopicSettings(read: EnvReader): KafkaTopicSettings {
  const replication = read.optional('KAFKA_REPLICATION_FACTOR') !== undefined ? read.integer('KAFKA_REPLICATION_FACTOR', 1, 1, 32) : undefined;
  return {
    partitions: read.integer('KAFKA_PARTITIONS', 6, 1, 10_000),
    ...(replication !== undefined ? { replicationFactor: replication } : {}),
    createTopics: read.boolean('KAFKA_CREATE_TOPICS', true),
  };
}
