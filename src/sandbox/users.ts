import { Keypair } from "@stellar/stellar-sdk";
import { z } from "zod";
import { amountToStroops, parseAmount } from "../domain/amount.js";
import { parseWith } from "../domain/validation.js";
import { amountTextSchema } from "./amount-text.js";
import type { SandboxChain } from "./chain.js";
import type { SandboxPlatform, SandboxUser } from "./platform.js";
import type { Random } from "./random.js";

/** base64("1"): SEP-29's value of `config.memo_required`, which stellar-sdk compares with. */
const memoRequiredValue = Buffer.from("1").toString("base64");

/** The settings of one sandbox user, as `users` and `addUser()` take them. */
export const userInitSchema = z
  .strictObject({
    /** The user's Pi uid. @default "user-N" */
    uid: z.string().min(1).optional(),
    /** @default "sandbox_user_N" */
    username: z.string().min(1).optional(),
    /** Pi to fund the user's wallet with; "0" leaves the wallet unfunded (not on the chain). @default "100" */
    balance: z.union([amountTextSchema, z.literal("0")]).optional(),
    /** `false` for a user without a wallet (`missing_wallet`), `"invalid"` for a broken address. @default a new wallet */
    wallet: z.union([z.literal(false), z.literal("invalid")]).optional(),
    /** Scopes the user granted the app. @default ["username", "payments", "wallet_address"] */
    scopes: z.array(z.string()).optional(),
    /** Marks the wallet as needing a memo (SEP-29's `config.memo_required` data entry), as exchanges do. @default false */
    memoRequired: z.boolean().optional(),
  })
  .refine((u) => !u.memoRequired || (u.wallet === undefined && u.balance !== "0"), {
    message: "needs a funded wallet: a data entry lives on an account",
    path: ["memoRequired"],
  });

/** A user to register in the sandbox's Pi app. */
export type SandboxUserInit = z.input<typeof userInitSchema>;

/** A user of the sandbox's app, with what tests need to act as them. */
export type SandboxUserInfo = Readonly<SandboxUser>;

/** A new keypair drawn from the sandbox's seeded generator. */
export function keypairFrom(random: Random): Keypair {
  return Keypair.fromRawEd25519Seed(Buffer.from(random.bytes(32)));
}

/** Makes `addUser`: registers users in the platform and funds their wallets on the chain. */
export function createUserRegistry(deps: {
  chain: SandboxChain;
  platform: SandboxPlatform;
  random: Random;
}): { users: SandboxUser[]; addUser: (init?: SandboxUserInit) => SandboxUserInfo } {
  const { chain, platform, random } = deps;
  const users: SandboxUser[] = [];
  const addUser = (init: SandboxUserInit = {}): SandboxUserInfo => {
    const spec = parseWith(userInitSchema, init, "sandbox user");
    const n = users.length + 1;
    const uid = spec.uid ?? `user-${n}`;
    if (platform.users.has(uid))
      throw new TypeError(`A sandbox user with uid "${uid}" already exists.`);
    const keypair = spec.wallet === undefined ? keypairFrom(random) : undefined;
    const user: SandboxUser = {
      uid,
      username: spec.username ?? `sandbox_user_${n}`,
      address: spec.wallet === "invalid" ? "GINVALIDADDRESS" : keypair?.publicKey(),
      seed: keypair?.secret(),
      accessToken: `token-${random.alphanumeric(24)}`,
      scopes: spec.scopes ?? ["username", "payments", "wallet_address"],
    };
    const balance = spec.balance ?? "100";
    if (keypair && balance !== "0") {
      chain.createAccount(keypair.publicKey(), amountToStroops(parseAmount(balance)), {
        data: spec.memoRequired ? { "config.memo_required": memoRequiredValue } : {},
      });
    }
    platform.users.set(uid, user);
    users.push(user);
    return user;
  };
  return { users, addUser };
}
