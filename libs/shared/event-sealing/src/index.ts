export * from './lib/sealing-key.store';
export * from './lib/event-sealer';
export * from './lib/sealing-event-store';
