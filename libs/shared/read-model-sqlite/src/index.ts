export { SqliteReadModelStore, type SqliteReadModelStoreOptions } from './lib/sqlite-read-model.store';
export { READ_MODEL_FILE_FORMAT, READ_MODEL_FILE_VERSION, removeReadModelFile } from './lib/read-model-file';
export { deepFreeze } from './lib/deep-freeze';
