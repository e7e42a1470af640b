export * from './lib/event';
export * from './lib/event-store.port';
export * from './lib/append-rules';
export * from './lib/log-subscription';
export * from './lib/in-memory-event-store';
export * from './lib/decider';
export * from './lib/command-handler';
