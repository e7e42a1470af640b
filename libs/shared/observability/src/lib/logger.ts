import pino, { type Logger } from 'pino';
import type { LoggerService } from '@nestjs/common';

/** The levels `LOG_LEVEL` may name (pino's). */
export const LOG_LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Why `LOG_LEVEL`'s value cannot be used, or undefined when it can (unset means info). */
export function logLevelProblem(value: string | undefined): string | undefined {
  if (value === undefined || value.trim() === '' || LOG_LEVELS.includes(value.trim())) return undefined;
  return `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${value}"`;
}

/**
 * Structured JSON logs (pino: fast, one line per event, the de facto Node choice). Every line
 * names its service so logs of many instances can be merged and filtered.
 */
export function createLogger(service: string, level = process.env['LOG_LEVEL']?.trim() || 'info'): Logger {
  return pino({ name: service, level, base: { service, pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });
}

/** NestJS's logger interface over pino, so framework messages come out as the same JSON lines. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    this.logger.info({ context }, String(message));
  }

  error(message: unknown, trace?: string, context?: string): void {
    this.logger.error({ context, trace }, String(message));
  }

  warn(message: unknown, context?: string): void {
    this.logger.warn({ context }, String(message));
  }

  debug(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }

  verbose(message: unknown, context?: string): void {
    this.logger.trace({ context }, String(message));
  }
}
