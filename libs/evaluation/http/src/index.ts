export * from './lib/evaluation-http.handler';
export * from './lib/http-identity-writer';
export * from './lib/sdk-incoming-message';
