export * from './lib/environment.projection';
export * from './lib/environment.projector';
export * from './lib/state-uuid';
export * from './lib/admin-catalog';
export * from './lib/catalog-history';
export * from './lib/log-timeline';
export * from './lib/audit-index';
export * from './lib/environment-history';
