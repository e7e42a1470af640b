import type { Logger } from 'pino';
import { createLogger } from './logger';
import { ConfigError } from './service-config';

export interface StoppableService {
  close(): Promise<void>;
}

/**
 * The shell of every service process: a JSON logger, a fail-fast start (configuration
 * problems are reported together, then the process exits 1), and a graceful stop on
 * SIGINT/SIGTERM.
 */
export function runService(name: string, start: (logger: Logger) => Promise<StoppableService>): void {
  const logger = createLogger(name);
  start(logger).then(
    (service) => {
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
      if (error instanceof ConfigError) logger.fatal({ problems: error.problems }, error.message);
      else logger.fatal({ err: error }, `${name} failed to start`);
      process.exit(1);
    },
  );
}
