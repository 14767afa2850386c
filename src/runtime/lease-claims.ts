import type { PayoutStore, StoredPayout } from "../storage/types.js";
import { isProvablyGone } from "./owner.js";
import type { RunnerRegistry } from "./runner-registry.js";

/** Claiming payouts' leases for one runtime, and taking over those of runners that died. */
export interface LeaseClaims {
  /** Leases a payout for this runtime: free, expired, or held by a runner that provably died. */
  claim(record: StoredPayout): Promise<boolean>;
  /** Takes over every lease of a provably dead runner of this host; the keys it took. */
  sweepGone(): Promise<string[]>;
}

/**
 * Leases for one runtime (`owner`). A lease of a runner that provably died (same host, its
 * pid gone: see `isProvablyGone`) is taken over at once, with everything it held, and what
 * it held is driven here: waiting out their expiry would stall every payout it held, and
 * the slot queue behind them. The runner's first save journals the takeover.
 */
export function createLeaseClaims(deps: {
  store: PayoutStore;
  owner: string;
  leaseMs: number;
  runners: RunnerRegistry;
}): LeaseClaims {
  const { store, owner, leaseMs, runners } = deps;

  const takeOverFrom = async (gone: string): Promise<string[]> => {
    const keys = await store.takeOver(gone, owner, leaseMs);
    for (const key of keys) {
      if (runners.isClosed || runners.has(key)) continue;
      const record = await store.get(key);
      if (record && !record.atRest) runners.start(record, { fresh: false, takenOverFrom: gone });
      else await store.release(key, owner);
    }
    return keys;
  };

  return {
    async claim(record) {
      if (await store.claim(record.key, owner, leaseMs)) return true;
      const holder = record.lease?.owner;
      if (holder === undefined || holder === owner || !isProvablyGone(holder)) return false;
      return (await takeOverFrom(holder)).includes(record.key);
    },

    async sweepGone() {
      const keys: string[] = [];
      for (const holder of await store.leaseOwners()) {
        if (holder !== owner && isProvablyGone(holder)) keys.push(...(await takeOverFrom(holder)));
      }
      return keys;
    },
  };
}
