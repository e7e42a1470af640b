import type { Logger } from 'pino';
import { createLogger, logLevelProblem } from './logger';
import { ConfigError, loggableAddress, redactCredentials } from './service-config';

export interface StoppableService {
  close(): Promise<void>;
}

/** A dependency a service could not reach at start: the log line names it and its address. */
export class DependencyUnreachableError extends Error {
  /** Where the dependency was looked for, without user name and password. */
  readonly address: string;
  /** The driver's reason, with any copy of the address or `//user:password@` in it redacted. */
  readonly reason: string;

  constructor(
    readonly dependency: string,
    rawAddress: string,
    override readonly cause: unknown,
  ) {
    const reason = redactCredentials(cause instanceof Error ? cause.message : String(cause), rawAddress);
    super(`${dependency} unreachable at ${loggableAddress(rawAddress)}: ${reason}`);
    this.address = loggableAddress(rawAddress);
    this.reason = reason;
  }
}

/**
 * Runs a start-up step that needs a dependency; its failure becomes a DependencyUnreachableError
 * naming the dependency and its address (credentials left out), which runService logs as such.
 */
export async function reach<T>(dependency: string, address: string, attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt();
  } catch (error: unknown) {
    throw new DependencyUnreachableError(dependency, address, error);
  }
}

/** The fields of the one JSON line a failed start logs (beside level, time, msg): what to fix. */
export function startFailureFields(error: unknown): Record<string, unknown> {
  if (error instanceof ConfigError) return { variable: error.variables[0], variables: error.variables, problems: error.problems };
  if (error instanceof DependencyUnreachableError) {
    return { dependency: error.dependency, address: error.address, reason: error.reason };
  }
  return { err: withoutCredentials(error) };
}

/** Any other error as it may be logged: `//user:password@` left out of its message and stack. */
function withoutCredentials(error: unknown): unknown {
  if (typeof error === 'string') return redactCredentials(error);
  if (!(error instanceof Error)) return error;
  const copy = new Error(redactCredentials(error.message));
  copy.name = error.name;
  copy.stack = error.stack === undefined ? undefined : redactCredentials(error.stack);
  return copy;
}

function startFailureMessage(name: string, error: unknown): string {
  if (error instanceof ConfigError) return `${name}: invalid configuration: ${error.problems.join('; ')}`;
  if (error instanceof DependencyUnreachableError) return `${name} failed to start: ${error.message}`;
  return `${name} failed to start`;
}

/**
 * A process's logger at `LOG_LEVEL`; a level pino does not know is a configuration error like
 * any other (one fatal JSON line naming LOG_LEVEL and the allowed levels, exit 1), logged at info.
 */
export function createLoggerOrExit(name: string, env: NodeJS.ProcessEnv = process.env): Logger {
  const problem = logLevelProblem(env['LOG_LEVEL']);
  if (problem === undefined) return createLogger(name, env['LOG_LEVEL']?.trim() || 'info');
  const logger = createLogger(name, 'info');
  const error = new ConfigError([problem]);
  logger.fatal(startFailureFields(error), startFailureMessage(name, error));
  process.exit(1);
}

/**
 * The shell of every service process: a JSON logger, a fail-fast start (configuration
 * problems are reported together in one JSON line naming the variables, an unreachable
 * dependency in one naming its address, then the process exits 1, with no stack trace on
 * stderr), and a graceful stop on SIGINT/SIGTERM.
 */
export function runService(name: string, start: (logger: Logger) => Promise<StoppableService>): void {
  const logger = createLoggerOrExit(name);
  let started = false;
  // Anything thrown outside a handler still ends the process, as a JSON line rather than a raw trace.
  process.on('uncaughtException', (error) => {
    logger.fatal(startFailureFields(error), started ? `${name} crashed` : startFailureMessage(name, error));
    process.exit(1);
  });
  // A configuration error thrown before start returns its promise is a failed start too.
  Promise.resolve()
    .then(() => start(logger))
    .then(
      (service) => {
        started = true;
        const shutdown = (signal: string): void => {
          logger.info({ signal }, 'shutting down');
          service.close().then(
            () => process.exit(0),
            (error: unknown) => {
              logger.error({ err: error }, 'shutdown failed');
              process.exit(1);
            },
          );
        };
        process.once('SIGINT', () => shutdown('SIGINT'));
        process.once('SIGTERM', () => shutdown('SIGTERM'));
      },
      (error: unknown) => {
        logger.fatal(startFailureFields(error), startFailureMessage(name, error));
        process.exit(1);
      },
    );
}
