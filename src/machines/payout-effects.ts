import { type EffectImplementations, effect, effectStubs } from "./effects.js";
import type {
  BuildInput,
  BuildOutput,
  CancelInput,
  CompleteInput,
  CreateInput,
  CreateOutput,
  FateInput,
  FateOutput,
  PaymentOutput,
  SlotInput,
  SubmitInput,
  SubmitOutput,
  WaitInput,
} from "./types.js";

/** The payout machine's effects, each declared once: its name, its input, its output. */
export const payoutEffects = {
  /** Waits for the payout's one-incomplete-payment slot. */
  acquireSlot: effect<SlotInput, object>(),
  /** Creates the Pi payment, or finds the one an earlier attempt made. */
  createPiPayment: effect<CreateInput, CreateOutput>(),
  /** Builds and signs the transaction, unless one of the payment already landed. */
  buildTransaction: effect<BuildInput, BuildOutput>(),
  /** Sends the stored envelope once and classifies the answer. */
  submitTransaction: effect<SubmitInput, SubmitOutput>(),
  /** Tells whether the envelope landed, may still land, or never will. */
  checkFate: effect<FateInput, FateOutput>(),
  /** Completes the payment on Pi. */
  completePiPayment: effect<CompleteInput, PaymentOutput>(),
  /** Cancels the payment on Pi. */
  cancelPiPayment: effect<CancelInput, PaymentOutput>(),
  /** Waits until a durable deadline. */
  wait: effect<WaitInput, object>(),
};

/** What implements the payout machine's effects (the runtime's `createPayoutEffects`). */
export type PayoutEffects = EffectImplementations<typeof payoutEffects>;

/** The payout machine's invoke stubs, derived from its declarations. */
export const payoutEffectStubs = effectStubs("payout", payoutEffects);
