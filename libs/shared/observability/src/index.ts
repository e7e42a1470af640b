export * from './lib/logger';
export * from './lib/metrics';
export * from './lib/request-metrics';
export * from './lib/service-config';
export * from './lib/ops-http-app';
export * from './lib/run-service';
