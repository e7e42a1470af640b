export * from './testing/decider-specification';
export * from './testing/event-store.contract';
