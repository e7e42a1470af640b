export * from './lib/evaluation-http.handler';
