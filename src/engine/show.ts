// Text for people and scripts: every field aenv prints (file rows, paths, details, warnings,
// hints, notes, summaries, `inspect`, and all that `aenv report` prints from report files that
// may come from another machine) goes through one of the functions below, so that no character
// that steers a terminal reaches it (docs/text-output.md). They are the engine's because its
// messages name files (showPath); the command line re-exports them (cli/text.ts) for its view:
// - C0 controls U+0000-U+001F (tab and newline included: inside a field they would forge
//   columns and lines), DEL U+007F, C1 controls U+0080-U+009F (U+009B is a CSI on many
//   terminals), the bidirectional marks, embeddings, overrides and isolates (U+061C, U+200E,
//   U+200F, U+202A-U+202E, U+2066-U+2069: they reorder what is shown, "Trojan Source") and the
//   line and paragraph separators U+2028, U+2029;
// - each is shown escaped, as C, JSON and Python show them: `\t`, `\n`, `\r`, `\xHH` below
//   U+0100, `\uHHHH` above (ESC is `\x1b`, CSI `\x9b`, RIGHT-TO-LEFT OVERRIDE `\u202e`);
// - a file name holding one of them (or U+FFFD, the mark of bytes that were not UTF-8, or a
//   leading `"`) is shown in double quotes, with `\` and `"` inside escaped too: `"a\x1bb"` is
//   the name a-ESC-b, while the name made of the six characters `a\x1bb` is shown as it is, so
//   the escaped form cannot be taken for a real name. A sentence (a detail, a hint) is not
//   quoted: its controls are escaped where they stand.
// JSON lines: JSON.stringify escapes C0 but leaves DEL, C1, the bidirectional controls and the
// separators raw; jsonLine() writes them as `\u00XX` / `\uXXXX` escapes (still valid JSON, the
// same parsed value), so a report shown with `cat` or `less -R` is as safe as aenv's own lines.

// A lone surrogate (JSON.parse of a report can make one) would reach the terminal as U+FFFD: escaped too.
const LONE = '[\\ud800-\\udbff](?![\\udc00-\\udfff])|(?<![\\ud800-\\udbff])[\\udc00-\\udfff]';
const CONTROLS = '\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069';
const UNSAFE = new RegExp(`[${CONTROLS}]|${LONE}`, 'g');
const QUOTE_NAME = new RegExp(`[${CONTROLS}\\ufffd]|${LONE}|^"`);
/** What JSON.stringify leaves raw of the above (it escapes C0 itself). */
const JSON_UNSAFE = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

/** The visible form of one character of UNSAFE. */
function escapeChar(c: string): string {
  if (c === '\t') return '\\t';
  if (c === '\n') return '\\n';
  if (c === '\r') return '\\r';
  const n = c.charCodeAt(0);
  return n < 0x100 ? `\\x${hex(n, 2)}` : `\\u${hex(n, 4)}`;
}

/** A sentence (a detail, a hint, a line of a report) with every terminal control escaped where it stands. */
export function safeText(s: string): string {
  return s.replace(UNSAFE, escapeChar);
}

/** A file name as people should see it: as it is, or quoted with escapes when it holds a control (see the top). */
export function showPath(p: string): string {
  return QUOTE_NAME.test(p) ? `"${p.replace(/[\\"]/g, '\\$&').replace(UNSAFE, escapeChar)}"` : p;
}

/** A JSON text with DEL, C1, the bidirectional controls and the separators written as \u escapes. */
export function safeJson(json: string): string {
  return json.replace(JSON_UNSAFE, (c) => `\\u${hex(c.charCodeAt(0), 4)}`);
}

/** One JSON line (without its newline) as aenv writes it: JSON.stringify, then safeJson. */
export function jsonLine(value: unknown): string {
  return safeJson(JSON.stringify(value));
}
