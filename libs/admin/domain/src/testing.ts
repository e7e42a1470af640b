export * from './testing/admin-event.builders';
