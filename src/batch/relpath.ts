// Relative paths inside a batch, as the checksum lists, the manifest and the shard hash see them
// (docs/MANIFEST.md "Paths", docs/batches.md): UTF-8 text, `/` between segments on every platform,
// no empty, `.` or `..` segment, no leading `/`, no NUL. Pure string functions.

/** Why `p` is not a canonical relative path, or null when it is one. */
export function relPathProblem(p: string): string | null {
  if (p === '') return 'the path is empty';
  if (p.includes('\0')) return 'the path holds a NUL character';
  if (!p.isWellFormed()) return 'the path is not valid Unicode (a lone surrogate)';
  if (p.startsWith('/')) return 'the path is absolute';
  for (const seg of p.split('/')) {
    if (seg === '') return 'the path has an empty segment (a leading, doubled or trailing /)';
    if (seg === '.') return 'the path has a . segment';
    if (seg === '..') return 'the path has a .. segment';
  }
  return null;
}

export function isCanonicalRelPath(p: string): boolean {
  return relPathProblem(p) === null;
}

/**
 * A path from a list written by another tool, made canonical: `./` prefixes, `.` segments and
 * doubled slashes are dropped (`./a//b/./c` -> `a/b/c`), as opening the name would. Absolute
 * paths, `..` segments (even `a/../b`), a trailing `/` (a folder), NUL and an empty result are
 * refused with the reason, because such an entry cannot name a file below the list's folder.
 */
export function normalizeListPath(p: string): { path: string } | { error: string } {
  if (p === '') return { error: 'the name is empty' };
  if (p.includes('\0')) return { error: 'the name holds a NUL character' };
  if (!p.isWellFormed()) return { error: 'the name is not valid Unicode (a lone surrogate)' };
  if (p.startsWith('/')) return { error: 'the name is an absolute path; entries are relative to the listed folder' };
  if (p.endsWith('/')) return { error: 'the name ends in / (a folder, not a file)' };
  const segs: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') return { error: 'the name has a .. segment, which could leave the listed folder' };
    segs.push(seg);
  }
  if (segs.length === 0) return { error: 'the name names the listed folder itself, not a file' };
  return { path: segs.join('/') };
}

/** A relative path with the platform's separator (`sep`, e.g. path.sep) turned into `/`. */
export function toSlashPath(rel: string, sep: string): string {
  return sep === '/' ? rel : rel.split(sep).join('/');
}

/**
 * Orders strings as their UTF-8 bytes order (which is Unicode code point order), the order
 * the manifest and written checksum lists use. JavaScript's `<` compares UTF-16 code units,
 * which differs for characters above U+FFFF against U+E000..U+FFFF.
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // A surrogate (0xD800..0xDFFF) starts a code point above U+FFFF: it sorts after every BMP unit.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/** A name as a message shows it: JSON-quoted, so spaces, newlines and controls stay visible. */
export function quoteName(p: string): string {
  return JSON.stringify(p);
}
