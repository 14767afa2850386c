import { clause, ValidationError } from "./errors.js";

/**
 * An amount of Pi as a canonical decimal string: greater than 0, at most 7 decimals, no
 * exponent, no trailing zeros after the point ("3.14", "1", "0.0000001").
 */
export type Amount = string & { readonly __brand: "Amount" };

/** 1 Pi = 10,000,000 stroops, the chain's smallest unit. */
export const STROOPS_PER_PI = 10_000_000n;

/** The largest amount a Stellar operation can carry (int64 stroops). */
const MAX_STROOPS = 9_223_372_036_854_775_807n;

/** The most decimals an amount may have: 1 stroop is 0.0000001 Pi. */
export const MAX_DECIMALS = 7;

const shape = /^([+-]?)(\d*)(?:(\.)(\d*))?$/;
const exponentForm = /^[+-]?(\d+\.?\d*|\.\d+)e[+-]?\d+$/i;

/**
 * Parses what a caller gave as an amount.
 *
 * Strings must be plain decimals. Numbers are accepted only when their shortest decimal
 * form has at most 7 decimals (so `0.1 + 0.2` is refused, `3.14` is fine), and every
 * amount must survive the trip to the JSON number Pi's API takes without changing. Each
 * refusal says what exactly is wrong and, where one is obvious, the amount meant.
 *
 * @throws ValidationError with code `INVALID_AMOUNT`
 */
export function parseAmount(input: unknown, path = "amount"): Amount {
  const text = typeof input === "number" ? numberToDecimal(input, path) : input;
  if (typeof text !== "string") {
    throw invalid(path, `must be a decimal string or a number, got ${describe(input)}`);
  }
  const fromNumber = typeof input === "number";
  const shown = fromNumber ? `${input} (a number)` : JSON.stringify(clip(text));
  const problem = decimalProblem(text, shown, fromNumber);
  if (problem !== undefined) throw invalid(path, problem);
  const stroops = decimalToStroops(text);
  if (stroops === 0n) throw invalid(path, `${shown} is zero; an amount must be greater than 0`);
  if (stroops > MAX_STROOPS) {
    throw invalid(
      path,
      `${shown} is larger than the chain can carry (at most ${formatAmount7(MAX_STROOPS)} Pi)`,
    );
  }
  const amount = stroopsToAmount(stroops);
  if (numberToCanonical(Number(amount)) !== amount) {
    throw invalid(
      path,
      `${amount} has more significant digits than the JSON number Pi's API takes can carry exactly`,
    );
  }
  return amount;
}

/** What keeps a text from being a plain positive decimal, or undefined if nothing does. */
function decimalProblem(text: string, shown: string, fromNumber = false): string | undefined {
  const example = 'e.g. "3.14"';
  if (text.trim() === "") return `${shown} is empty; give a decimal number of Pi (${example})`;
  if (/\s/.test(text)) {
    const bare = text.trim().replace(/\s*pi$/i, "");
    const hint = /\s/.test(bare) ? ` (${example})` : ` ("${bare}")`;
    return `${shown} contains spaces${/pi\s*$/i.test(text) ? " and a unit" : ""}; give the number alone${hint}`;
  }
  if (exponentForm.test(text)) {
    const plain = numberToCanonical(Number(text));
    if (plain === undefined) return `${shown} is in exponent form; write it as a plain decimal`;
    const plainProblem = decimalProblem(plain, `"${plain}"`);
    return plainProblem === undefined
      ? `${shown} is in exponent form; write it as a plain decimal ("${plain}")`
      : `${shown} is in exponent form, and as a plain decimal ${plainProblem}`;
  }
  if (/^[+-]?\d+,\d+$/.test(text))
    return `${shown} has a comma; use a decimal point ("${text.replace(",", ".")}")`;
  const match = shape.exec(text);
  const [, sign = "", whole = "", point = "", fraction = ""] = match ?? [];
  if (match === null || (whole === "" && fraction === ""))
    return `${shown} is not a number; give a decimal number of Pi (${example})`;
  if (sign === "-") {
    const what = /^[0.]*$/.test(whole + fraction) ? "is zero" : "is negative";
    return `${shown} ${what}; an amount must be greater than 0`;
  }
  if (sign === "+") return `${shown} has a plus sign; write "${text.slice(1)}"`;
  if (whole === "") return `${shown} has no digit before the point; write "0${text}"`;
  if (point !== "" && fraction === "")
    return `${shown} ends with a point; write "${whole}" or add the decimals`;
  if (whole.length > 1 && whole.startsWith("0")) {
    const trimmed = `${whole.replace(/^0+(?=\d)/, "")}${point}${fraction}`;
    return `${shown} has leading zeros; write "${trimmed}"`;
  }
  if (fraction.length > MAX_DECIMALS) {
    const float = fromNumber
      ? "; a float such as 0.1 + 0.2 is not exact: pass the amount as a string"
      : "";
    return `${shown} has ${fraction.length} decimals; at most ${MAX_DECIMALS} are allowed (the smallest amount is 0.0000001 Pi)${float}`;
  }
  return undefined;
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
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

/** Stroops of an amount as Horizon prints it ("12.5000000", "0.0000000"), or undefined if it is not one. */
export function parseAmount7(text: string): bigint | undefined {
  return /^(0|[1-9]\d*)(\.\d{1,7})?$/.test(text) ? decimalToStroops(text) : undefined;
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
  return new ValidationError(
    `Invalid ${path}: ${clause(message)}.`,
    [{ path, message }],
    "INVALID_AMOUNT",
  );
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "bigint") return `a bigint (${value}n); pass it as a string ("${value}")`;
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  return typeof value;
}
