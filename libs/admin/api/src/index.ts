export * from './lib/admin-api.module';
export * from './lib/http/admin-api.tokens';
export * from './lib/http/api-error';
export * from './lib/http/http-error.filter';
export * from './lib/http/validation.pipe';
export * from './lib/openapi';
export * from './lib/admin-http-app';
export * from './lib/internal-api.module';
