/** One definition, shared with the in-memory store (see `@flagline/read-model`). */
export { deepFreeze } from '@flagline/read-model';
