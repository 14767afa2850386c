import type { ChainAccount } from "./chain-types.js";

/** An account's changing fields as they were from one ledger on. */
interface AccountVersion {
  ledger: number;
  balance: bigint;
  sequence: bigint;
  lastModifiedLedger: number;
}

/**
 * Each account's state per ledger, for answers as of an older ledger (a lagging Horizon).
 * A version is kept only when an account changes, so a chain of thousands of ledgers costs
 * one small record per change, and a look-up is a binary search.
 */
export class AccountHistory {
  private readonly versions = new Map<string, AccountVersion[]>();

  /** Remembers `account` as it is at the end of `ledger` (replacing an earlier note for that ledger). */
  record(account: ChainAccount, ledger: number): void {
    const version: AccountVersion = {
      ledger,
      balance: account.balance,
      sequence: account.sequence,
      lastModifiedLedger: account.lastModifiedLedger,
    };
    const list = this.versions.get(account.id);
    if (!list) {
      this.versions.set(account.id, [version]);
      return;
    }
    const last = list[list.length - 1]!;
    if (last.ledger === ledger) list[list.length - 1] = version;
    else list.push(version);
  }

  /** `current` as it was at the end of `ledger`, or undefined when it did not exist yet. */
  at(current: ChainAccount, ledger: number): ChainAccount | undefined {
    const list = this.versions.get(current.id) ?? [];
    let low = 0;
    let high = list.length - 1;
    let found: AccountVersion | undefined;
    while (low <= high) {
      const mid = (low + high) >> 1;
      const version = list[mid]!;
      if (version.ledger <= ledger) {
        found = version;
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    if (!found) return undefined;
    return {
      id: current.id,
      balance: found.balance,
      sequence: found.sequence,
      lastModifiedLedger: found.lastModifiedLedger,
      data: current.data,
    };
  }
}
