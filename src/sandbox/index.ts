export type { LedgerTransaction, SandboxChain } from "./chain.js";
export type { FaultRule } from "./faults.js";
export type { SandboxPlatform, SandboxUser } from "./platform.js";
export {
  type LedgerPayment,
  type RequestLogEntry,
  type Sandbox,
  type SandboxInfo,
  type SandboxOptions,
  type SandboxUserInfo,
  type SandboxUserInit,
  startSandbox,
} from "./start-sandbox.js";
