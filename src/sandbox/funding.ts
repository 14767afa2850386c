import { StrKey } from "@stellar/stellar-sdk";
import { z } from "zod";
import { amountToStroops, formatAmount7, parseAmount } from "../domain/amount.js";
import { parseWith } from "../domain/validation.js";
import { amountTextSchema } from "./amount-text.js";
import type { SandboxChain } from "./chain.js";

const addressSchema = z
  .string()
  .refine((s) => StrKey.isValidEd25519PublicKey(s), "must be a Stellar account address (G…)");

/** The body of `POST /__sandbox/fund`: `address` defaults to the app wallet. */
export const fundBodySchema = z.strictObject({
  address: addressSchema.optional(),
  amount: amountTextSchema,
});

/** The body of `PUT /__sandbox/balance`: `address` defaults to the app wallet; "0" empties it. */
export const balanceBodySchema = z.strictObject({
  address: addressSchema.optional(),
  amount: z.union([amountTextSchema, z.literal("0")]),
});

/** An account's address and native balance, as the funding endpoints answer. */
export interface FundedAccount {
  address: string;
  /** As Horizon prints it: "110.0000000". */
  balance: string;
}

/** Funding out of band (a faucet, or a test that needs a wallet drained), checked by `parseWith`. */
export function createFunding(chain: SandboxChain, appWallet: string) {
  const stroops = (amount: string) => (amount === "0" ? 0n : amountToStroops(parseAmount(amount)));
  const answer = (address: string): FundedAccount => ({
    address,
    balance: formatAmount7(chain.accounts.get(address)!.balance),
  });
  return {
    /** Adds `amount` Pi to an account, creating it if missing. */
    fund: (body: unknown): FundedAccount => {
      const { address = appWallet, amount } = parseWith(fundBodySchema, body, "sandbox funding");
      chain.fund(address, stroops(amount));
      return answer(address);
    },
    /** Sets an account's balance to `amount` Pi, creating it if missing. */
    setBalance: (body: unknown): FundedAccount => {
      const { address = appWallet, amount } = parseWith(balanceBodySchema, body, "sandbox balance");
      chain.setBalance(address, stroops(amount));
      return answer(address);
    },
  };
}
