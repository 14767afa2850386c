import { afterEach, describe, expect, test, vi } from "vitest";
import { DeferredWork } from "../../src/telemetry/deferred-work.js";

afterEach(() => {
  vi.useRealTimers();
});

describe("telemetry's deferred work", () => {
  test("tasks wait for their batch, then run in the order they were queued", () => {
    vi.useFakeTimers();
    const work = new DeferredWork(200, 1000);
    const done: number[] = [];
    for (let i = 0; i < 5; i++) work.later(() => done.push(i));
    expect(done).toEqual([]);
    vi.advanceTimersByTime(199);
    expect(done).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(done).toEqual([0, 1, 2, 3, 4]);
  });

  test("a full batch runs at once; the timer is re-armed for the next first task only", () => {
    vi.useFakeTimers();
    const work = new DeferredWork(200, 3);
    const done: number[] = [];
    work.later(() => done.push(1));
    work.later(() => done.push(2));
    expect(done).toEqual([]);
    work.later(() => done.push(3));
    expect(done).toEqual([1, 2, 3]);
    work.later(() => done.push(4));
    // The timer armed by the first batch's first task still runs: the fourth waits no longer.
    vi.advanceTimersByTime(200);
    expect(done).toEqual([1, 2, 3, 4]);
    work.later(() => done.push(5));
    vi.advanceTimersByTime(199);
    expect(done).toEqual([1, 2, 3, 4]);
    vi.advanceTimersByTime(1);
    expect(done).toEqual([1, 2, 3, 4, 5]);
  });

  test("a task that throws loses only itself", () => {
    const work = new DeferredWork(200, 1000);
    const done: string[] = [];
    work.later(() => done.push("before"));
    work.later(() => {
      throw new Error("exporter bug");
    });
    work.later(() => done.push("after"));
    expect(() => work.flush()).not.toThrow();
    expect(done).toEqual(["before", "after"]);
  });

  test("close() runs what waits, and every later task at once; its timer never holds the process", () => {
    vi.useFakeTimers();
    const work = new DeferredWork(200, 1000);
    const done: number[] = [];
    work.later(() => done.push(1));
    work.close();
    expect(done).toEqual([1]);
    work.later(() => done.push(2));
    expect(done).toEqual([1, 2]);
    expect(vi.getTimerCount()).toBe(0);
  });

  test("its timer is unreferenced: telemetry never keeps a process alive", () => {
    const work = new DeferredWork(60_000, 1000);
    const setTimeoutSpy = vi.spyOn(globalThis, "setTimeout");
    work.later(() => {});
    const timer = setTimeoutSpy.mock.results[0]?.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    setTimeoutSpy.mockRestore();
    work.close();
  });
});
