import { z } from "zod";
import type { Random } from "./random.js";

/**
 * A fault the sandbox injects into matching requests.
 *
 * - `latency`: wait `ms` (plus up to `jitterMs`) before handling.
 * - `error`: answer `status` with a JSON or an HTML body, either `before` the request is
 *   handled (nothing changes) or `after` it was applied (e.g. a 504 for a transaction that
 *   did land, a 500 for a payment that was created).
 * - `drop`: apply the request, then close the connection without an answer.
 * - `tamper`: change fields of the payment in the answer (not in the sandbox's state), to
 *   test that a client checks what Pi returned before signing.
 * - `lag`: answer a Horizon read as a lagging instance would, as of `ledgers` before the latest.
 * - `garble`: apply the request, then answer a body of the wrong `shape` (see {@link GarbleShape}).
 */
export const faultRuleSchema = z
  .strictObject({
    /** `METHOD /path`, where a `*` segment matches any one segment, e.g. `POST /transactions`. */
    route: z.string().regex(/^(GET|POST|PUT|DELETE|\*) \/\S*$/),
    kind: z.enum(["latency", "error", "drop", "tamper", "lag", "garble"]),
    ms: z.number().int().min(0).optional(),
    jitterMs: z.number().int().min(0).optional(),
    status: z.number().int().min(400).max(599).optional(),
    body: z.enum(["json", "html"]).optional(),
    when: z.enum(["before", "after"]).optional(),
    payment: z.record(z.string(), z.unknown()).optional(),
    /** For an `error` on the Pi API: answer with this Pi error code (e.g. `not_verified`) instead of `unknown_error`. */
    piError: z
      .string()
      .regex(/^[a-z_]+$/)
      .optional(),
    /** For an `error` on Horizon: answer `transaction_failed` with these result codes (e.g. an older Horizon's tx_bad_seq). */
    resultCodes: z
      .strictObject({ transaction: z.string(), operations: z.array(z.string()).optional() })
      .optional(),
    /** For a `lag`: how many ledgers behind the latest the answering instance is (never below ledger 1). @default 1 */
    ledgers: z.number().int().min(1).optional(),
    /** For a `garble`: what the answer becomes. @default "wrong-type" */
    shape: z.enum(["wrong-type", "empty", "truncated", "html"]).optional(),
    /** Chance that a matching request is hit, drawn from the sandbox's seeded generator. */
    probability: z.number().min(0).max(1).optional(),
    /** Hit at most this many matching requests, then stop. */
    times: z.number().int().min(1).optional(),
  })
  .refine((rule) => rule.kind !== "lag" || /^GET \/(?!v2(\/|$)|__sandbox)/.test(rule.route), {
    message: "a lag fault applies to Horizon reads: its route must be `GET /…` outside /v2",
    path: ["route"],
  });

/** What a `garble` fault makes of an answer. */
export type GarbleShape = NonNullable<z.output<typeof faultRuleSchema>["shape"]>;

/** A fault the sandbox injects into matching requests. */
export type FaultRule = z.input<typeof faultRuleSchema>;

interface ActiveRule {
  rule: z.output<typeof faultRuleSchema>;
  method: string;
  segments: string[];
  remaining: number;
}

/** An error answer a fault injects. */
export interface FaultError {
  status: number;
  body: "json" | "html";
  resultCodes?: { transaction: string; operations?: string[] | undefined } | undefined;
  piError?: string | undefined;
}

/** What the faults decided for one request. */
export interface FaultPlan {
  latencyMs: number;
  errorBefore?: FaultError;
  errorAfter?: FaultError;
  drop: boolean;
  tamper?: Record<string, unknown>;
  /** Answer as of this many ledgers before the latest. */
  lag?: number;
  /** Answer a body of this wrong shape. */
  garble?: GarbleShape;
  /** Names of the rules that hit, for the request log. */
  hits: string[];
}

/** The set of active fault rules, drawing from a seeded generator so a run can be replayed. */
export class FaultInjector {
  private rules: ActiveRule[] = [];

  constructor(private readonly random: Random) {}

  /** Replaces the active rules. */
  set(rules: readonly FaultRule[]): void {
    this.rules = rules.map((input) => {
      const rule = faultRuleSchema.parse(input);
      const [method = "*", path = "/"] = rule.route.split(" ");
      return {
        rule,
        method,
        segments: split(path),
        remaining: rule.times ?? Number.POSITIVE_INFINITY,
      };
    });
  }

  /** Adds rules to the active ones. */
  add(rules: readonly FaultRule[]): void {
    const current = this.rules;
    this.set(rules);
    this.rules = [...current, ...this.rules];
  }

  clear(): void {
    this.rules = [];
  }

  /**
   * Decides the faults for a request; consumes `times` and draws probabilities. `canLag` is
   * false for requests a lagging replica never answers (writes, the Pi API, friendbot), so
   * that a `lag` rule stays armed for a read.
   */
  plan(method: string, path: string, { canLag }: { canLag: boolean }): FaultPlan {
    const plan: FaultPlan = { latencyMs: 0, drop: false, hits: [] };
    const segments = split(path);
    for (const active of this.rules) {
      if (active.remaining <= 0 || !matches(active, method, segments)) continue;
      const { kind } = active.rule;
      if (kind === "lag" && !canLag) continue;
      // One request meets at most one error, drop or garble: later rules stay armed for the next.
      const outcomeTaken =
        plan.errorBefore !== undefined ||
        plan.errorAfter !== undefined ||
        plan.drop ||
        plan.garble !== undefined;
      if (outcomeTaken && (kind === "error" || kind === "drop" || kind === "garble")) continue;
      if (active.rule.probability !== undefined && this.random.next() >= active.rule.probability)
        continue;
      active.remaining -= 1;
      const { rule } = active;
      plan.hits.push(describe(rule));
      switch (rule.kind) {
        case "latency":
          plan.latencyMs +=
            (rule.ms ?? 0) + (rule.jitterMs ? this.random.int(rule.jitterMs + 1) : 0);
          break;
        case "error": {
          const error: FaultError = {
            status: rule.status ?? 500,
            body: rule.body ?? "json",
            resultCodes: rule.resultCodes,
            piError: rule.piError,
          };
          if (rule.when === "after") plan.errorAfter = error;
          else plan.errorBefore = error;
          break;
        }
        case "drop":
          plan.drop = true;
          break;
        case "tamper":
          plan.tamper = { ...plan.tamper, ...rule.payment };
          break;
        case "lag":
          plan.lag = Math.max(plan.lag ?? 0, rule.ledgers ?? 1);
          break;
        case "garble":
          plan.garble = rule.shape ?? "wrong-type";
          break;
      }
    }
    return plan;
  }
}

/** A rule as the request log names it: "error 504 after", "lag 3", "garble truncated". */
function describe(rule: z.output<typeof faultRuleSchema>): string {
  const detail =
    rule.kind === "lag"
      ? [String(rule.ledgers ?? 1)]
      : rule.kind === "garble"
        ? [rule.shape ?? "wrong-type"]
        : [rule.status, rule.when];
  return [rule.kind, ...detail].filter((part) => part !== undefined).join(" ");
}

function split(path: string): string[] {
  return path.split("?")[0]!.split("/").filter(Boolean);
}

function matches(active: ActiveRule, method: string, segments: string[]): boolean {
  if (active.method !== "*" && active.method !== method) return false;
  if (active.segments.length !== segments.length) return false;
  return active.segments.every((s, i) => s === "*" || s === segments[i]);
}
