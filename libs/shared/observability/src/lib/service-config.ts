/** A configuration problem found at start: the service stops with a message naming the variable. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
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

  url(name: string, protocols: readonly string[], fallback?: string): string {
    const value = this.string(name, fallback);
    if (!value) return value;
    try {
      const parsed = new URL(value);
      if (!protocols.includes(parsed.protocol.replace(/:$/, ''))) this.problems.push(`${name} must use ${protocols.join(' or ')}, got "${value}"`);
    } catch {
      this.problems.push(`${name} is not a valid URL: "${value}"`);
    }
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

  /** Records a problem the caller found (a rule across variables, an unknown choice). */
  problem(message: string): void {
    this.problems.push(message);
  }

  /** Throws one `ConfigError` listing every problem found so far. */
  done(): void {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
  }
}
