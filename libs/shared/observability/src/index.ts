export * from './lib/logger';
export * from './lib/metrics';
export * from './lib/service-config';
