export type { PostgresPool, Queryable, QueryResult } from "./postgres/client.js";
export { migrate } from "./postgres/migrations.js";
export { createPostgresStore, type PostgresStoreOptions } from "./postgres/postgres-store.js";
