export * from "./adapters/index.js";
export * from "./domain/index.js";
