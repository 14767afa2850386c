import { ValidationError } from "./errors.js";

/**
 * An amount of Pi as a canonical decimal string: greater than 0, at most 7 decimals, no
 * exponent, no trailing zeros after the point ("3.14", "1", "0.0000001").
 */
export type Amount = string & { readonly __brand: "Amount" };

/** 1 Pi = 10,000,000 stroops, the chain's smallest unit. */
export const STROOPS_PER_PI = 10_000_000n;

/** The largest amount a Stellar operation can carry (int64 stroops). */
const MAX_STROOPS = 9_223_372_036_854_775_807n;

const decimalPattern = /^(0|[1-9]\d*)(\.\d{1,7})?$/;

/**
 * Parses what a caller gave as an amount.
 *
 * Strings must be plain decimals. Numbers are accepted only when their shortest decimal
 * form has at most 7 decimals (so `0.1 + 0.2` is refused, `3.14` is fine), and every
 * amount must survive the trip to the JSON number Pi's API takes without changing.
 *
 * @throws ValidationError with code `INVALID_AMOUNT`
 */
export function parseAmount(input: unknown, path = "amount"): Amount {
  const text = typeof input === "number" ? numberToDecimal(input, path) : input;
  if (typeof text !== "string") {
    throw invalid(path, `must be a decimal string or a number, got ${describe(input)}`);
  }
  if (!decimalPattern.test(text)) {
    throw invalid(
      path,
      `"${text.slice(0, 40)}" is not a plain decimal with at most 7 decimals (e.g. "3.14")`,
    );
  }
  const stroops = decimalToStroops(text);
  if (stroops <= 0n) throw invalid(path, "must be greater than 0");
  if (stroops > MAX_STROOPS) throw invalid(path, "is larger than the chain can carry");
  const amount = stroopsToAmount(stroops);
  if (numberToCanonical(Number(amount)) !== amount) {
    throw invalid(
      path,
      `${amount} has more significant digits than the JSON number Pi's API takes can carry exactly`,
    );
  }
  return amount;
}

/** The exact number of stroops in an amount. */
export function amountToStroops(amount: Amount): bigint {
  return decimalToStroops(amount);
}

/** The canonical amount for a number of stroops (must be positive). */
export function stroopsToAmount(stroops: bigint): Amount {
  const whole = stroops / STROOPS_PER_PI;
  const fraction = (stroops % STROOPS_PER_PI).toString().padStart(7, "0").replace(/0+$/, "");
  return (fraction === "" ? `${whole}` : `${whole}.${fraction}`) as Amount;
}

/** The amount as the JSON number Pi's API takes (exact: `parseAmount` guarantees it). */
export function amountToNumber(amount: Amount): number {
  return Number(amount);
}

/** The amount with exactly 7 decimals, as Horizon prints balances ("3.1400000"). */
export function formatAmount7(stroops: bigint): string {
  const sign = stroops < 0n ? "-" : "";
  const abs = stroops < 0n ? -stroops : stroops;
  return `${sign}${abs / STROOPS_PER_PI}.${(abs % STROOPS_PER_PI).toString().padStart(7, "0")}`;
}

/**
 * Stroops of a number that Pi sent (a JSON number), or undefined when it is not an exact
 * amount of at most 7 decimals. Used to compare Pi's answer with the intent.
 */
export function numberToStroops(value: number): bigint | undefined {
  const text = numberToCanonical(value);
  if (text === undefined || !/^-?(0|[1-9]\d*)(\.\d{1,7})?$/.test(text)) return undefined;
  return text.startsWith("-") ? -decimalToStroops(text.slice(1)) : decimalToStroops(text);
}

function decimalToStroops(text: string): bigint {
  const [whole = "0", fraction = ""] = text.split(".");
  return BigInt(whole) * STROOPS_PER_PI + BigInt(fraction.padEnd(7, "0"));
}

function numberToDecimal(value: number, path: string): string {
  if (!Number.isFinite(value)) throw invalid(path, `must be a finite number, got ${value}`);
  const text = numberToCanonical(value);
  if (text === undefined) throw invalid(path, `${value} cannot be written as a plain decimal`);
  return text;
}

/**
 * The shortest decimal that reads back as this number, without exponent. JavaScript
 * prints 1e-7 for 0.0000001: the exponent is the engine's choice, not the caller's, so a
 * number is expanded, while a string in exponent form is refused.
 */
function numberToCanonical(value: number): string | undefined {
  if (!Number.isFinite(value)) return undefined;
  const text = String(value);
  const match = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (match === null) return text;
  const [, sign = "", intPart = "", fracPart = "", exponentText = "0"] = match;
  const exponent = Number(exponentText);
  const digits = intPart + fracPart;
  const pointAt = intPart.length + exponent;
  if (pointAt <= 0) return `${sign}0.${"0".repeat(-pointAt)}${digits}`.replace(/0+$/, "");
  if (pointAt >= digits.length) return `${sign}${digits}${"0".repeat(pointAt - digits.length)}`;
  return `${sign}${digits.slice(0, pointAt)}.${digits.slice(pointAt)}`;
}

function invalid(path: string, message: string): ValidationError {
  return new ValidationError(`Invalid ${path}: ${message}.`, [{ path, message }], "INVALID_AMOUNT");
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value;
}
