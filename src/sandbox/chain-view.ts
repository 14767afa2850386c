import type { SandboxChain } from "./chain.js";
import type { ChainAccount, LedgerHeader, LedgerTransaction } from "./chain-types.js";

/** The chain as one Horizon instance sees it: everything up to and including its last ledger. */
export interface ChainView {
  /** The last ledger this view has ingested (its `Latest-Ledger` header). */
  readonly latest: LedgerHeader;
  ledgers(): readonly LedgerHeader[];
  ledger(sequence: number): LedgerHeader | undefined;
  account(id: string): ChainAccount | undefined;
  transaction(hash: string): LedgerTransaction | undefined;
  /** The transactions in the view's ledgers, oldest first. */
  transactions(): readonly LedgerTransaction[];
}

/** The chain as of ledger `sequence` (clamped to 1 … latest): a lagging Horizon instance's view. */
export function viewChain(chain: SandboxChain, sequence: number): ChainView {
  const last = Math.min(Math.max(sequence, 1), chain.latest.sequence);
  const latest = chain.ledgers[last - 1]!;
  const inView = (tx: LedgerTransaction) => tx.ledger <= last;
  return {
    latest,
    ledgers: () => (last === chain.latest.sequence ? chain.ledgers : chain.ledgers.slice(0, last)),
    ledger: (n) => (n >= 1 && n <= last ? chain.ledgers[n - 1] : undefined),
    account: (id) => chain.accountAt(id, last),
    transaction: (hash) => {
      const tx = chain.transaction(hash);
      return tx && inView(tx) ? tx : undefined;
    },
    transactions: () => {
      const all = chain.transactions();
      // History is in ledger order: cut it where the view ends.
      let end = all.length;
      while (end > 0 && !inView(all[end - 1]!)) end -= 1;
      return end === all.length ? all : all.slice(0, end);
    },
  };
}
