export { createSqliteStore, type SqliteDatabase, type SqliteStoreOptions } from "./sqlite-store.js";
