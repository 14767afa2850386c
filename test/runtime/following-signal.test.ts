import { describe, expect, test } from "vitest";
import { FollowingSignal } from "../../src/runtime/following-signal.js";

describe("a call's following signal", () => {
  test("is made only when read, and aborts with its parent while the call runs", () => {
    const parent = new AbortController();
    const call = new FollowingSignal(parent.signal);
    const signal = call.signal;
    expect(call.signal).toBe(signal);
    expect(signal.aborted).toBe(false);
    parent.abort(new Error("stop"));
    expect(signal.aborted).toBe(true);
    expect((signal.reason as Error).message).toBe("stop");
  });

  test("read after its parent aborted, it is aborted at once", () => {
    const parent = new AbortController();
    const call = new FollowingSignal(parent.signal);
    parent.abort();
    expect(call.signal.aborted).toBe(true);
  });

  test("aborted alone, before or after it is read, its parent stays as it was", () => {
    const parent = new AbortController();
    const early = new FollowingSignal(parent.signal);
    early.abort();
    expect(early.signal.aborted).toBe(true);
    const late = new FollowingSignal(parent.signal);
    const signal = late.signal;
    late.abort();
    expect(signal.aborted).toBe(true);
    expect(parent.signal.aborted).toBe(false);
  });

  test("released, it no longer follows its parent and leaves no listener on it", () => {
    const parent = new AbortController();
    const added: unknown[] = [];
    const removed: unknown[] = [];
    const add = parent.signal.addEventListener.bind(parent.signal);
    const remove = parent.signal.removeEventListener.bind(parent.signal);
    parent.signal.addEventListener = ((type: string, listener: never, options?: never) => {
      added.push(listener);
      add(type, listener, options);
    }) as typeof parent.signal.addEventListener;
    parent.signal.removeEventListener = ((type: string, listener: never) => {
      removed.push(listener);
      remove(type, listener);
    }) as typeof parent.signal.removeEventListener;
    const read = new FollowingSignal(parent.signal);
    const signal = read.signal;
    read.release();
    expect(removed).toEqual(added);
    const unread = new FollowingSignal(parent.signal);
    unread.release();
    expect(added).toHaveLength(1);
    parent.abort();
    expect(signal.aborted).toBe(false);
    // Read after release: it is made, and follows nobody (the parent is aborted by now).
    expect(unread.signal.aborted).toBe(true);
  });
});
