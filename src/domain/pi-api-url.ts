/** Pi's Platform API, without its `/v2` (the adapter adds it to every path). */
export const DEFAULT_PI_API_URL = "https://api.minepi.com";

/**
 * The base URL of a Pi Platform API as the adapter joins paths to it: Pi documents
 * `https://api.minepi.com/v2/…` and the sandbox prints its URL both ways, so either form
 * is accepted. Strips trailing slashes and one trailing `/v2`; keeps any other path (a proxy's).
 *
 * @example
 * normalizePiApiUrl("http://127.0.0.1:4000/v2/"); // "http://127.0.0.1:4000"
 */
export function normalizePiApiUrl(url: string): string {
  return url.replace(/\/+$/, "").replace(/\/v2$/i, "").replace(/\/+$/, "");
}
