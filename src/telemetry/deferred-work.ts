/**
 * Telemetry's bookkeeping, done in batches instead of in the middle of a payout's step.
 *
 * Only what must be live is done live: the clock, and an effect's span standing in the
 * context while it runs (EffectSpan). Everything that only records (making and ending spans
 * at the times measured when things happened, attributes, metric records) is queued here and
 * done in one go: once `maxTasks` wait, at most `maxDelayMs` after the first of them was
 * queued, on `flush()` (`payouts.flushTelemetry()`), and when the runtime closes.
 *
 * Why: measured on 2026-12-07 (docs/benchmarks.md, figures of 2026-12-08), the same SDK
 * calls cost more CPU when spread between a payout's steps (the runtime's machine, JSON and
 * store work in between, and SQLite's waits for the disk, leave the SDK's code and data cold)
 * than when run together, and batches of many payouts cost less than a batch per payout. Times are
 * taken when things happen (`performance.now()`), so what spans and histograms say does not
 * move; only when the SDK sees it does (a span processor's export is later still).
 */
export class DeferredWork {
  private tasks: Array<() => void> = [];
  /** One timer, made on first use and re-armed (`refresh`) only when work is queued and none waits. */
  private timer: NodeJS.Timeout | undefined;
  private armed = false;
  private closed = false;

  constructor(
    private readonly maxDelayMs: number,
    private readonly maxTasks: number,
  ) {}

  /** Queues a task; each is fenced: telemetry lost for one never stops the others. */
  later(task: () => void): void {
    this.tasks.push(task);
    if (this.closed || this.tasks.length >= this.maxTasks) {
      this.flush();
      return;
    }
    if (this.armed) return;
    this.armed = true;
    if (this.timer) this.timer.refresh();
    else {
      this.timer = setTimeout(() => {
        this.armed = false;
        this.flush();
      }, this.maxDelayMs);
      // Telemetry never keeps a process alive.
      this.timer.unref();
    }
  }

  /** Does everything queued so far, in the order it was queued. */
  flush(): void {
    if (this.tasks.length === 0) return;
    const tasks = this.tasks;
    this.tasks = [];
    for (const task of tasks) {
      try {
        task();
      } catch {
        // This record is lost; the payout, and the rest of the batch, are not.
      }
    }
  }

  /** Flushes, and from now on does each task at once (the runtime closed). */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.armed = false;
    this.flush();
  }
}
