// What names a file system can hold, and when two names are one name on it. Windows' rules are
// Microsoft's "Naming Files, Paths, and Namespaces" (learn.microsoft.com/windows/win32/fileio/
// naming-a-file): no < > : " / \ | ? * and no characters 0-31 in a name, no name ending in a
// space or a dot (Windows drops them, so "notes." becomes "notes"), no device name (CON, PRN,
// AUX, NUL, COM0-9, LPT0-9, COM and LPT with a superscript 1-3, CONIN$, CONOUT$) as the part
// before the first dot, whatever the extension. They hold for FAT, exFAT and NTFS because the
// drive is read on Windows, even where a Linux driver (ntfs-3g) would create such names.
// Lengths: 255 UTF-16 code units per name on FAT (VFAT long names), exFAT, NTFS and HFS+; 255
// UTF-8 bytes on Linux's own file systems and APFS.
// Folding: FAT, exFAT and NTFS compare names through an upcase table that maps each UTF-16 code
// unit to one code unit (the simple uppercase mapping; "ß" stays "ß", unlike toUpperCase());
// macOS folds case on APFS and HFS+ unless formatted case-sensitive, and treats NFC and NFD
// spellings of a name as one name.

/** How names are held by one file system (target.ts decides which rules a folder gets). */
export interface NameRules {
  /** Windows' naming rules apply (forbidden characters, trailing dot or space, device names). */
  windows: boolean;
  /** The longest name, in UTF-16 code units or UTF-8 bytes. */
  maxName: { n: number; unit: 'utf16' | 'utf8' };
  /** Names that differ only in case are one name. */
  caseInsensitive: boolean;
  /** Names that differ only in Unicode normalisation (NFC, NFD) are one name. */
  normalizationInsensitive: boolean;
  /** Names outside ASCII can be created (fusefat cannot). */
  unicode: boolean;
}

export const POSIX_RULES: NameRules = {
  windows: false, maxName: { n: 255, unit: 'utf8' }, caseInsensitive: false, normalizationInsensitive: false, unicode: true,
};

export const WINDOWS_RULES: NameRules = {
  windows: true, maxName: { n: 255, unit: 'utf16' }, caseInsensitive: true, normalizationInsensitive: false, unicode: true,
};

/** Characters Windows forbids in a name besides 0-31 ('/' cannot be in a name anywhere). */
export const WINDOWS_FORBIDDEN = '"*/:<>?\\|';

const DEVICE_NAMES = new Set([
  'CON', 'PRN', 'AUX', 'NUL', 'CONIN$', 'CONOUT$',
  ...['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '\u00b9', '\u00b2', '\u00b3'].flatMap((d) => [`COM${d}`, `LPT${d}`]),
]);

/** The part of a name Windows compares with the device names: up to the first dot, without trailing spaces. */
export function deviceStem(name: string): string {
  const dot = name.indexOf('.');
  return (dot < 0 ? name : name.slice(0, dot)).replace(/ +$/, '');
}

export function isDeviceName(name: string): boolean {
  return DEVICE_NAMES.has(deviceStem(name).toUpperCase());
}

/** One way a name breaks a file system's rules. */
export interface NameProblem {
  rule: 'forbidden-character' | 'control-character' | 'trailing-dot' | 'trailing-space' | 'device-name' | 'too-long' | 'non-ascii';
  /** What is wrong, in words, e.g. `holds ":" and "?"`. */
  text: string;
}

const quoteChar = (c: string): string => (c.charCodeAt(0) < 0x20 ? `U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}` : `"${c}"`);

function listed(chars: string[]): string {
  const q = chars.map(quoteChar);
  return q.length === 1 ? q[0]! : `${q.slice(0, -1).join(', ')} and ${q[q.length - 1]}`;
}

export function nameLength(name: string, unit: 'utf16' | 'utf8'): number {
  return unit === 'utf16' ? name.length : Buffer.byteLength(name, 'utf8');
}

/** Every way `name` breaks `rules` (empty: the file system can hold it). */
export function nameProblems(name: string, rules: NameRules): NameProblem[] {
  const out: NameProblem[] = [];
  if (rules.windows) {
    const forbidden = new Set<string>();
    const control = new Set<string>();
    for (const c of name) {
      if (c.charCodeAt(0) < 0x20) control.add(c);
      else if (WINDOWS_FORBIDDEN.includes(c)) forbidden.add(c);
    }
    if (forbidden.size) out.push({ rule: 'forbidden-character', text: `holds ${listed([...forbidden])} (Windows forbids ${WINDOWS_FORBIDDEN.split('').join(' ')} in names)` });
    if (control.size) out.push({ rule: 'control-character', text: `holds the control character${control.size > 1 ? 's' : ''} ${listed([...control])}` });
    if (name.endsWith('.')) out.push({ rule: 'trailing-dot', text: 'ends in a dot (Windows drops it, and cannot open the file)' });
    else if (name.endsWith(' ')) out.push({ rule: 'trailing-space', text: 'ends in a space (Windows drops it, and cannot open the file)' });
    if (isDeviceName(name)) out.push({ rule: 'device-name', text: `is the Windows device name ${deviceStem(name).toUpperCase()} (reserved with any extension)` });
  }
  if (!rules.unicode && /[^\x00-\x7f]/.test(name)) out.push({ rule: 'non-ascii', text: 'holds characters outside ASCII, which this driver cannot write' });
  const len = nameLength(name, rules.maxName.unit);
  if (len > rules.maxName.n) {
    out.push({ rule: 'too-long', text: `is ${len} ${rules.maxName.unit === 'utf16' ? 'UTF-16 code units' : 'bytes'} long (at most ${rules.maxName.n})` });
  }
  return out;
}

// ------------------------------------------------------------------------------------- folding

const upper = new Map<number, number>();

/** The simple uppercase of one UTF-16 code unit, as an upcase table holds it (one unit to one unit). */
function upcaseUnit(c: number): number {
  let u = upper.get(c);
  if (u === undefined) {
    const s = String.fromCharCode(c).toUpperCase();
    u = s.length === 1 ? s.charCodeAt(0) : c;
    upper.set(c, u);
  }
  return u;
}

/** `name` through an upcase table (FAT, exFAT, NTFS): each UTF-16 code unit to its simple uppercase. */
export function upcase(name: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(name)) return name.toUpperCase();
  let out = '';
  for (let i = 0; i < name.length; i++) out += String.fromCharCode(upcaseUnit(name.charCodeAt(i)));
  return out;
}

/** The key under which `rules` hold `name`: two names with one key are one name there. */
export function foldKey(name: string, rules: NameRules): string {
  const n = rules.normalizationInsensitive ? name.normalize('NFC') : name;
  return rules.caseInsensitive ? upcase(n) : n;
}

/** What makes two different names one on these rules, in words ("does not tell upper and lower case apart"). */
export function foldText(a: string, b: string, rules: NameRules): string {
  const nfc = (s: string): string => s.normalize('NFC');
  const byCase = rules.caseInsensitive && (rules.normalizationInsensitive ? nfc(a) !== nfc(b) : a !== b);
  const byForm = rules.normalizationInsensitive && (rules.caseInsensitive ? upcase(a) !== upcase(b) : a !== b);
  const parts = [...(byCase ? ['upper and lower case'] : []), ...(byForm ? ['composed and decomposed Unicode (NFC, NFD)'] : [])];
  return parts.length ? `does not tell ${parts.join(', nor ')} apart` : 'holds them under one name';
}
