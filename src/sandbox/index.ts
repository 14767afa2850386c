export type { SandboxChain } from "./chain.js";
export type { LedgerTransaction } from "./chain-types.js";
export type { FaultRule } from "./faults.js";
export type { SandboxPlatform, SandboxUser } from "./platform.js";
export type { SandboxOptions } from "./sandbox-options.js";
export { startSandbox } from "./start-sandbox.js";
export type { LedgerPayment, RequestLogEntry, Sandbox, SandboxInfo } from "./types.js";
export type { SandboxUserInfo, SandboxUserInit } from "./users.js";
