import { z } from "zod";
import { parseAmount } from "../domain/amount.js";

/** A decimal Pi amount as text ("12.5"), at most 7 decimals, as the sandbox's options take it. */
export const amountTextSchema = z.string().refine((s) => {
  try {
    parseAmount(s);
    return true;
  } catch {
    return false;
  }
}, "must be a decimal amount with at most 7 decimals");
