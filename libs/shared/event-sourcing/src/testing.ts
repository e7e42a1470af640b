export * from './testing/decider-specification';
export * from './testing/event-store.contract';
export * from './testing/checkpoint-store.contract';
export * from './testing/event-bus.contract';
export * from './testing/catalog-store.contract';
