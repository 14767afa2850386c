/**
 * Orders two keys by code point, which is UTF-8 byte order: the order of the SQL stores
 * (SQLite's BINARY, PostgreSQL's "C"). JavaScript's `<` orders UTF-16 code units, which
 * puts a character above U+FFFF (a surrogate pair, 0xD800–0xDFFF) before U+E000–U+FFFF.
 */
export function compareKeys(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

// Moves surrogates above U+E000–U+FFFF, keeping the order within each range: at the first
// differing unit, a surrogate stands for a code point above every BMP one.
const codePointRank = (unit: number): number =>
  unit < 0xd800 ? unit : unit < 0xe000 ? unit + 0x2000 : unit - 0x800;
