export { SqliteReadModelStore, type SqliteReadModelStoreOptions } from './lib/sqlite-read-model.store';
export { removeReadModelFile } from './lib/read-model-file';
