export * from './lib/evaluation-http.handler';
export * from './lib/http-identity-writer';
export * from './lib/sdk-incoming-message';
export * from './lib/close-server';
export * from './lib/turn-writes';
