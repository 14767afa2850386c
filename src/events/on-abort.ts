/**
 * Calls `listener` once when `signal` aborts, or at once if it has already: an aborted signal
 * never fires its event again, so a listener added after the abort would wait forever (a stop
 * that came while the caller awaited something else). Returns what removes the listener.
 */
export function onAbort(signal: AbortSignal, listener: () => void): () => void {
  if (signal.aborted) {
    listener();
    return () => {};
  }
  signal.addEventListener("abort", listener, { once: true });
  return () => signal.removeEventListener("abort", listener);
}
