import type { PiPlatform } from "../adapters/types.js";
import { PAYOUT_KEY_FIELD } from "../domain/payout-args.js";
import type { PayoutStore } from "../storage/types.js";
import type { Intake } from "./intake.js";
import type { Payout } from "./payout-view.js";
import { isStray } from "./strays.js";
import type { RecoveryReport } from "./types.js";

/**
 * After a crash, reads Pi's incomplete payments: adopts ours (a create whose record was not
 * saved), cancels strays (a late create of an ended payout: no envelope was ever built for
 * it), reports orphans (ours, unknown to this store; adopted if asked) and foreign ones,
 * then resumes every unfinished payout.
 */
export async function recoverPayments(
  deps: {
    platform: PiPlatform;
    store: PayoutStore;
    insert: Intake["insert"];
    resume: (options: { wait: boolean }) => Promise<Payout[]>;
  },
  { adoptOrphans = false, wait = true }: { adoptOrphans?: boolean; wait?: boolean } = {},
): Promise<RecoveryReport> {
  const { platform, store, insert } = deps;
  const report: RecoveryReport = {
    adopted: [],
    orphans: [],
    foreign: [],
    cancelledStrays: [],
    resumed: [],
  };
  for (const payment of await platform.incompleteServerPayments()) {
    const key = payment.metadata?.[PAYOUT_KEY_FIELD];
    if (typeof key !== "string") {
      report.foreign.push(payment);
      continue;
    }
    const record = await store.get(key);
    if (record) {
      if (isStray(record, payment))
        report.cancelledStrays.push(await platform.cancelPayment(payment.identifier));
      else if (record.paymentId === null)
        report.adopted.push({ key, paymentId: payment.identifier });
      else if (record.paymentId !== payment.identifier) report.orphans.push(payment);
      continue;
    }
    report.orphans.push(payment);
    if (adoptOrphans) {
      const { [PAYOUT_KEY_FIELD]: _ours, ...metadata } = payment.metadata ?? {};
      await insert(
        { key, uid: payment.user_uid, amount: payment.amount, memo: payment.memo, metadata },
        { adopt: true },
      );
      report.adopted.push({ key, paymentId: payment.identifier });
    }
  }
  report.resumed = await deps.resume({ wait });
  return report;
}
