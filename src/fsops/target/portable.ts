// --portable-names: a name the output drive cannot hold becomes one it can, reversibly. On a drive
// that holds Unicode names, by the look-alike characters of rclone's encoder for Windows
// (rclone lib/encoder, its "OS" encoding on Windows), which Windows users also meet in OneDrive
// and SharePoint exports:
//
//   " * : < > ? \ |    ->  U+FF02 U+FF0A U+FF1A U+FF1C U+FF1E U+FF1F U+FF3C U+FF5C
//                          (the FULLWIDTH forms: the ASCII code + 0xFEE0)
//   characters 0-31    ->  U+2400-U+241F (SYMBOL FOR NULL ... SYMBOL FOR UNIT SEPARATOR)
//   a last "."         ->  U+FF0E (FULLWIDTH FULL STOP)
//   a last " "         ->  U+2420 (SYMBOL FOR SPACE)
//   a device name      ->  its first letter FULLWIDTH (CON.txt -> U+FF23 "ON.txt")
//   a character that is already one of these look-alikes (U+FF01-U+FF5E, U+2400-U+2420) or
//   U+201B             ->  kept, with U+201B (SINGLE HIGH-REVERSED-9 QUOTATION MARK) before it
//
// On a drive whose driver writes ASCII names only (fusefat), by percent-encoding instead (as in
// URLs, RFC 3986): each UTF-8 byte of a character outside ASCII, of a character 0-31, of one of
// the forbidden characters, of "%", of a last "." or " ", and of a device name's first letter,
// as "%" and two hex digits ("a:b" -> "a%3Ab", "CON" -> "%43ON").
//
// originalName() undoes either. Two more changes cannot be undone from the name alone, and are put
// as "~" and 8 hex digits of the SHA-256 of the original name before the extension (tagged()): a
// name still too long for the drive has its stem cut to fit, and of names that the drive holds as
// one (Report.txt, report.txt on FAT) all but the first the run meets are told apart so. Either
// way the row says from what the output was renamed, and the summary counts the renamed outputs
// (docs/removable-drives.md).

import { createHash } from 'node:crypto';
import { isDeviceName, nameLength, type NameRules, WINDOWS_FORBIDDEN } from './rules.js';

export type Scheme = 'look-alike' | 'percent';

export const QUOTE = '\u201b';
const FULLWIDTH = 0xfee0;

/** A character originalName() would change: quoted when a renamed name already holds it. */
function lookAlike(c: number): boolean {
  return (c >= 0xff01 && c <= 0xff5e) || (c >= 0x2400 && c <= 0x2420) || c === 0x201b;
}

export function schemeFor(rules: NameRules): Scheme {
  return rules.unicode ? 'look-alike' : 'percent';
}

/** `name` as `rules` can hold it (call it for a name that breaks them). */
export function portableName(name: string, rules: NameRules): string {
  const mapped = !rules.windows && rules.unicode ? name : rules.unicode ? lookAlikes(name) : percent(name, rules.windows);
  return nameLength(mapped, rules.maxName.unit) > rules.maxName.n ? shorten(name, mapped, rules) : mapped;
}

function lookAlikes(name: string): string {
  let s = '';
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (lookAlike(c)) s += QUOTE + name[i];
    else if (c < 0x20) s += String.fromCharCode(0x2400 + c);
    else if (WINDOWS_FORBIDDEN.includes(name[i]!)) s += String.fromCharCode(c + FULLWIDTH);
    else s += name[i];
  }
  if (s.endsWith('.')) s = s.slice(0, -1) + '\uff0e';
  else if (s.endsWith(' ')) s = s.slice(0, -1) + '\u2420';
  if (isDeviceName(s)) s = String.fromCharCode(s.charCodeAt(0) + FULLWIDTH) + s.slice(1);
  return s;
}

const hex = (b: number): string => `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
const escape = (c: string): string => [...Buffer.from(c, 'utf8')].map(hex).join('');

function percent(name: string, windows: boolean): string {
  let s = '';
  for (const c of name) { // by code point: a character outside the BMP is one UTF-8 sequence
    const code = c.codePointAt(0)!;
    s += code > 0x7e || code < 0x20 || c === '%' || (windows && WINDOWS_FORBIDDEN.includes(c)) ? escape(c) : c;
  }
  if (windows) {
    if (s.endsWith('.') || s.endsWith(' ')) s = s.slice(0, -1) + hex(s.charCodeAt(s.length - 1));
    if (isDeviceName(s)) s = hex(s.charCodeAt(0)) + s.slice(1);
  }
  return s;
}

/** The name portableName() was given, from what it made (for a name it did not shorten). */
export function originalName(mapped: string, scheme: Scheme): string {
  if (scheme === 'percent') return Buffer.from(mapped.replace(/%([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
  let s = '';
  for (let i = 0; i < mapped.length; i++) {
    const c = mapped.charCodeAt(i);
    if (c === 0x201b && i + 1 < mapped.length) s += mapped[++i];
    else if (c >= 0xff01 && c <= 0xff5e) s += String.fromCharCode(c - FULLWIDTH);
    else if (c >= 0x2400 && c <= 0x241f) s += String.fromCharCode(c - 0x2400);
    else if (c === 0x2420) s += ' ';
    else s += mapped[i];
  }
  return s;
}

/** Cuts `mapped` to fit, keeping its extension (up to 16 characters) and adding "~" and 8 hex digits of SHA-256(original). */
function shorten(original: string, mapped: string, rules: NameRules): string {
  return tagged(original, mapped, rules);
}

/**
 * `mapped` with "~" and 8 hex digits of the SHA-256 of `original` put before its extension (up to
 * 16 characters), its stem cut as far as needed to fit `rules`: a name told apart from others
 * that the drive holds as one, or shortened (not reversible from the name: the row says).
 */
export function tagged(original: string, mapped: string, rules: NameRules): string {
  const tag = '~' + createHash('sha256').update(original, 'utf8').digest('hex').slice(0, 8);
  const dot = mapped.lastIndexOf('.');
  const ext = dot > 0 && mapped.length - dot <= 16 ? mapped.slice(dot) : '';
  let stem = ext ? mapped.slice(0, dot) : mapped;
  const room = rules.maxName.n - nameLength(tag + ext, rules.maxName.unit);
  while (stem && nameLength(stem, rules.maxName.unit) > room) {
    const last = stem.charCodeAt(stem.length - 1); // whole code points only, never half a surrogate pair
    stem = stem.slice(0, last >= 0xdc00 && last <= 0xdfff && stem.length > 1 ? -2 : -1);
  }
  // never end the stem in half an escape
  stem = stem.replace(new RegExp(`${QUOTE}$`), '').replace(/%[0-9A-F]?$/, '');
  return stem + tag + ext;
}
