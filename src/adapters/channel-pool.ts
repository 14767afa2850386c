import type { Keypair } from "@stellar/stellar-sdk";

interface Use {
  txid: string | undefined;
  /** Wall-clock ms after which the channel is free even without news of its transaction. */
  until: number;
}

/**
 * Channel accounts: funded accounts that lend their sequence numbers (and pay the fee) so
 * that one app wallet can have several transactions in a ledger. The wallet stays the
 * payment operation's source. A channel is lent to one transaction at a time, until its
 * outcome is known (or a safety timeout), so concurrent payouts do not collide on a
 * sequence. A collision would not be unsafe anyway: the loser's envelope is provably dead
 * (its sequence was used) and is rebuilt.
 */
export class ChannelPool {
  private readonly uses = new Map<string, Use>();
  private next = 0;

  constructor(
    private readonly keypairs: readonly Keypair[],
    private readonly holdMs: number,
    private readonly pollMs = 10,
  ) {}

  get size(): number {
    return this.keypairs.length;
  }

  /** True for a channel's address. */
  has(address: string): boolean {
    return this.keypairs.some((k) => k.publicKey() === address);
  }

  /** Lends a free channel, waiting while all are lent. */
  async lend(): Promise<Keypair> {
    for (;;) {
      const now = Date.now();
      for (let i = 0; i < this.keypairs.length; i++) {
        const keypair = this.keypairs[(this.next + i) % this.keypairs.length]!;
        const use = this.uses.get(keypair.publicKey());
        if (!use || use.until <= now) {
          this.next = (this.next + i + 1) % this.keypairs.length;
          this.uses.set(keypair.publicKey(), { txid: undefined, until: now + this.holdMs });
          return keypair;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, this.pollMs));
    }
  }

  /** Records which transaction a lent channel carries. */
  assign(address: string, txid: string): void {
    const use = this.uses.get(address);
    if (use) use.txid = txid;
  }

  /**
   * Gives a lent channel back: the one carrying a transaction whose outcome is known (or
   * that will never be sent from here), or one lent for a build that signed nothing.
   */
  giveBack(lent: { txid: string } | { address: string }): void {
    if ("txid" in lent) {
      for (const [address, use] of this.uses) if (use.txid === lent.txid) this.uses.delete(address);
    } else if (this.uses.get(lent.address)?.txid === undefined) {
      this.uses.delete(lent.address);
    }
  }
}
