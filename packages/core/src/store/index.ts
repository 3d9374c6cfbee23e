export * from "./history.js";
export * from "./history-writer.js";
export {
  DATA_FILE_NAME,
  ftsQuery,
  openDataDirectory,
  openSqliteStore,
  SqliteStore,
  type SqliteStoreOptions,
} from "./sqlite-store.js";
export * from "./types.js";
