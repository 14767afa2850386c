/**
 * ky 1.x hands fetch a `Request` whose body is a stream. On Node 20, when fetch refuses the
 * request before connecting (a port on fetch's blocklist, such as 9, 6000 or 6667), ky's
 * promise for such a POST never settles: no error, no timeout, and a one-shot command exits
 * with code 13 and no word. A payments adapter that hangs on "Pi is down" hides the
 * one failure an operator must see, so every request ky makes goes through this wrapper:
 * it reads the body into memory (our bodies are small JSON) and calls fetch with a plain
 * URL and init, which rejects promptly. Pinned by test/adapters/unreachable.test.ts.
 */
export function bufferedFetch(inner: typeof fetch = globalThis.fetch): typeof fetch {
  return async (input, init) => {
    if (!(input instanceof Request)) return inner(input, init);
    const body = input.body === null ? {} : { body: await input.arrayBuffer() };
    return inner(input.url, {
      method: input.method,
      headers: input.headers,
      ...body,
      redirect: input.redirect,
      signal: init?.signal ?? input.signal,
    });
  };
}
