// The output drive's rules, in process (src/fsops/target): Windows' naming rules and lengths, the
// upcase folding, --portable-names' mappings and their inverse (property-tested), the mount table
// and first sectors of real images made by mkfs (FAT32, exFAT, NTFS; no root needed), the probe
// of a folder, and the guard's checks of a run's planned outputs (conflicts found before the run,
// or as files come; names already in a folder; folders; renaming). Also measures the guard on
// 200,000 names (printed, not asserted: speed belongs to `npm run bench`). The same rules on real
// FAT, exFAT and NTFS mounts: test/drives-mounts.test.ts.

import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TargetError } from '../src/fsops/target/errors.js';
import { NameGuard } from '../src/fsops/target/guard.js';
import { bootSectorKind, kindOf, majorMinor, mountOf, parseMacMounts, parseMountinfo, type MountEntry } from '../src/fsops/target/mounts.js';
import { originalName, portableName, schemeFor, tagged } from '../src/fsops/target/portable.js';
import { probeFolder, probeName } from '../src/fsops/target/probe.js';
import { foldKey, foldText, nameProblems, POSIX_RULES, upcase, WINDOWS_RULES, type NameRules } from '../src/fsops/target/rules.js';
import { sharedFolderWarning } from '../src/engine/statuses.js';
import { FAT_MAX_FILE, mayFold, Targets, targetFrom, type Target } from '../src/fsops/target/target.js';
import type { Planned } from '../src/fsops/plan.js';
import { hostTag, isTempName, removeStaleTemps } from '../src/fsops/atomic.js';
import { tempDir } from './helpers/cli.js';

const rulesOf = (name: string, r: NameRules): string[] => nameProblems(name, r).map((p) => p.rule);

describe("Windows' naming rules (FAT, exFAT, NTFS, Windows)", () => {
  it('forbidden characters, control characters, a trailing dot or space, device names with any extension', () => {
    expect(rulesOf('plain.txt', WINDOWS_RULES)).toEqual([]);
    expect(rulesOf('a:b?.txt', WINDOWS_RULES)).toEqual(['forbidden-character']);
    expect(nameProblems('a:b?.txt', WINDOWS_RULES)[0]!.text).toMatch(/^holds ":" and "\?"/);
    for (const c of '"*:<>?\\|') expect(rulesOf(`x${c}y`, WINDOWS_RULES), c).toEqual(['forbidden-character']);
    expect(rulesOf('tab\there', WINDOWS_RULES)).toEqual(['control-character']);
    expect(nameProblems('a\u0001b', WINDOWS_RULES)[0]!.text).toContain('U+0001');
    expect(rulesOf('notes.', WINDOWS_RULES)).toEqual(['trailing-dot']);
    expect(rulesOf('notes ', WINDOWS_RULES)).toEqual(['trailing-space']);
    expect(rulesOf(' leading space.txt', WINDOWS_RULES)).toEqual([]);
    for (const n of ['CON', 'con.txt', 'Nul.tar.gz', 'AUX', 'PRN.doc', 'COM1.log', 'lpt9', 'COM0', 'LPT\u00b9.txt', 'CONIN$', 'CON .txt']) {
      expect(rulesOf(n, WINDOWS_RULES), n).toEqual(['device-name']);
    }
    for (const n of ['CONSOLE.txt', 'COM10', 'xCON', 'LPT', 'con-notes.txt']) expect(rulesOf(n, WINDOWS_RULES), n).toEqual([]);
  });

  it('lengths: 255 UTF-16 code units on Windows file systems, 255 UTF-8 bytes on Linux ones', () => {
    expect(rulesOf('x'.repeat(255), WINDOWS_RULES)).toEqual([]);
    expect(rulesOf('x'.repeat(256), WINDOWS_RULES)).toEqual(['too-long']);
    expect(rulesOf('\u00e9'.repeat(255), WINDOWS_RULES)).toEqual([]); // 510 bytes, 255 units
    expect(rulesOf('\u00e9'.repeat(128), POSIX_RULES)).toEqual(['too-long']); // 256 bytes
    expect(nameProblems('\u00e9'.repeat(128), POSIX_RULES)[0]!.text).toBe('is 256 bytes long (at most 255)');
    expect(rulesOf('a:b?*.txt', POSIX_RULES)).toEqual([]); // Linux holds them
  });

  it('a driver that writes ASCII names only (fusefat)', () => {
    expect(rulesOf('caf\u00e9.txt', { ...WINDOWS_RULES, unicode: false })).toEqual(['non-ascii']);
  });

  it('folding: each UTF-16 code unit to its simple uppercase (an upcase table), NFC where the drive normalises', () => {
    expect(upcase('Report.txt')).toBe('REPORT.TXT');
    expect(upcase('stra\u00dfe')).toBe('STRA\u00dfE'); // not "STRASSE": one unit to one unit
    expect(upcase('\u00e9t\u00e9')).toBe('\u00c9T\u00c9');
    expect(upcase('\ud83d\ude00x')).toBe('\ud83d\ude00X');
    expect(foldKey('Report.txt', WINDOWS_RULES)).toBe(foldKey('report.TXT', WINDOWS_RULES));
    expect(foldKey('Report.txt', POSIX_RULES)).not.toBe(foldKey('report.txt', POSIX_RULES));
    const mac = { ...POSIX_RULES, caseInsensitive: true, normalizationInsensitive: true };
    expect(foldKey('caf\u00e9', mac)).toBe(foldKey('CAFE\u0301', mac));
    expect(foldKey('caf\u00e9', WINDOWS_RULES)).not.toBe(foldKey('cafe\u0301', WINDOWS_RULES));
    expect(foldText('Report.txt', 'report.txt', WINDOWS_RULES)).toBe('does not tell upper and lower case apart');
    expect(foldText('caf\u00e9', 'cafe\u0301', mac)).toBe('does not tell composed and decomposed Unicode (NFC, NFD) apart');
  });
});

describe('--portable-names', () => {
  const fat = WINDOWS_RULES;
  const fusefat = { ...WINDOWS_RULES, unicode: false };

  it('look-alikes (rclone\'s Windows encoding) on drives that hold Unicode names', () => {
    expect(portableName('a:b?.txt', fat)).toBe('a\uff1ab\uff1f.txt');
    expect(portableName('"*<>\\|', fat)).toBe('\uff02\uff0a\uff1c\uff1e\uff3c\uff5c');
    expect(portableName('tab\there', fat)).toBe('tab\u2409here');
    expect(portableName('notes.', fat)).toBe('notes\uff0e');
    expect(portableName('notes ', fat)).toBe('notes\u2420');
    expect(portableName('CON.txt', fat)).toBe('\uff23ON.txt');
    expect(portableName('nul', fat)).toBe('\uff4eul');
    // a look-alike already in a renamed name is kept, quoted
    expect(portableName('a\uff1ab:c', fat)).toBe('a\u201b\uff1ab\uff1ac');
    expect(schemeFor(fat)).toBe('look-alike');
  });

  it('percent-encoding on drives whose driver writes ASCII names only', () => {
    expect(portableName('a:b?.txt', fusefat)).toBe('a%3Ab%3F.txt');
    expect(portableName('CON.txt', fusefat)).toBe('%43ON.txt');
    expect(portableName('notes.', fusefat)).toBe('notes%2E');
    expect(portableName('caf\u00e9 50%.txt', fusefat)).toBe('caf%C3%A9 50%25.txt');
    expect(schemeFor(fusefat)).toBe('percent');
  });

  it('reversible: every name that breaks the rules maps to one that keeps them, and back', () => {
    const alphabet = fc.constantFrom(...'aB.:?*" <>|\\%\u0001\u001f\uff1a\u201b\u2400\u2420\u00e9\u00dfCONUXLPT19', '\ud83d\ude00');
    const names = fc.array(alphabet, { minLength: 1, maxLength: 40 }).map((a) => a.join(''));
    for (const rules of [fat, fusefat]) {
      fc.assert(fc.property(names, (n) => {
        if (n === '.' || n === '..' || nameProblems(n, rules).length === 0) return;
        const m = portableName(n, rules);
        expect(nameProblems(m, rules), `${JSON.stringify(n)} -> ${JSON.stringify(m)}`).toEqual([]);
        expect(originalName(m, schemeFor(rules))).toBe(n);
      }), { numRuns: 3000 });
    }
  });

  it('a name still too long is cut to fit, with a tag of the original name before its extension', () => {
    const long = 'x'.repeat(300) + '.csv';
    const m = portableName(long, fat);
    expect(m.length).toBe(255);
    expect(m).toMatch(/^x+~[0-9a-f]{8}\.csv$/);
    expect(portableName(long, fat)).toBe(m); // the same name every run
    expect(portableName('y' + long.slice(1), fat)).not.toBe(m);
    const bytes = '\u00e9'.repeat(200) + '.txt'; // 404 bytes
    const b = portableName(bytes, POSIX_RULES);
    expect(Buffer.byteLength(b)).toBeLessThanOrEqual(255);
    expect(b).toMatch(/^\u00e9+~[0-9a-f]{8}\.txt$/);
    expect(tagged('report.txt', 'report.txt', fat)).toMatch(/^report~[0-9a-f]{8}\.txt$/);
  });
});

describe('the mount table', () => {
  // Lines as this machine's kernel wrote them for fusefat, exfat-fuse (on a loop device) and
  // ntfs-3g (on an image file), with a space in a mount point.
  const INFO = [
    '26 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard',
    '44 26 0:39 / /tmp/fsx/m1 rw,nosuid,nodev,relatime - fuse.fusefat fusefat rw,user_id=0,group_id=0',
    '45 26 7:0 / /tmp/fsx/m2 rw,nosuid,nodev,relatime - fuseblk /dev/loop0 rw,user_id=0,group_id=0,default_permissions,allow_other,blksize=4096',
    '46 26 0:40 / /media/USB\\040DRIVE rw,relatime shared:5 - fuse /tmp/fsx/ntfs.img rw,user_id=0,group_id=0,allow_other',
    '47 26 8:17 / /media/stick rw,nosuid - vfat /dev/sdb1 rw,fmask=0022,dmask=0022,codepage=437,iocharset=utf8',
    '48 26 0:50 / /mnt/share rw - cifs //server/share rw,vers=3.1.1',
    '49 26 0:51 / /mnt/c rw,noatime - 9p C:\\134 rw,aname=drvfs;path=C:\\;uid=1000,trans=fd',
    '50 23 0:23 / /dev/pts rw,nosuid - devpts devpts rw,mode=600',
  ].join('\n');
  const mounts = parseMountinfo(INFO);
  const sector = (at: number, text: string): Uint8Array => {
    const b = new Uint8Array(512);
    b.set(Buffer.from(text, 'latin1'), at);
    b[510] = 0x55;
    b[511] = 0xaa;
    return b;
  };

  it('parses mountinfo lines: device, mount point (unescaped), type, source, options', () => {
    expect(mounts).toHaveLength(8);
    expect(mounts[3]).toMatchObject({ device: '0:40', mountPoint: '/media/USB DRIVE', fstype: 'fuse', source: '/tmp/fsx/ntfs.img' });
    expect(mounts[2]!.options).toContain('allow_other');
    expect(mounts[3]!.options).toContain('shared:5'.split(':')[0] === 'shared' ? 'relatime' : '');
  });

  it('finds the mount of a folder by its device, and tells the kinds apart (first sectors for FUSE block mounts)', () => {
    expect(majorMinor(0x0700n)).toBe('7:0');
    expect(majorMinor((8n << 8n) | 17n)).toBe('8:17');
    const onLinux = process.platform === 'linux';
    if (onLinux) expect(mountOf(mounts, '/tmp/fsx/m2/out', 0x0700n)?.mountPoint).toBe('/tmp/fsx/m2');
    const sniff = (src: string): Uint8Array | null => (src === '/dev/loop0' ? sector(3, 'EXFAT   ') : src === '/tmp/fsx/ntfs.img' ? sector(3, 'NTFS    ') : src === '/dev/sdb1' ? sector(82, 'FAT32   ') : null);
    expect(kindOf(mounts[0]!, sniff)).toMatchObject({ kind: 'posix', label: 'ext4' });
    expect(kindOf(mounts[1]!, sniff)).toMatchObject({ kind: 'fat', label: 'FAT (fusefat)', fuse: true });
    expect(kindOf(mounts[2]!, sniff)).toMatchObject({ kind: 'exfat', label: 'exFAT (exfat-fuse)', fuse: true });
    expect(kindOf(mounts[3]!, sniff)).toMatchObject({ kind: 'ntfs', label: 'NTFS (ntfs-3g)' });
    expect(kindOf(mounts[4]!, sniff)).toMatchObject({ kind: 'fat', label: 'FAT32 (vfat)', fuse: false });
    expect(kindOf(mounts[5]!, sniff)).toMatchObject({ kind: 'smb' });
    expect(kindOf(mounts[6]!, sniff)).toMatchObject({ kind: 'windows', label: 'a Windows drive (WSL, C:\\)' });
    expect(kindOf(mounts[7]!, sniff)).toMatchObject({ kind: 'posix' }); // virtual file systems do not make a run look at its names twice
    // a FUSE block mount whose first sector cannot be read: Windows' rules all the same
    expect(kindOf(mounts[2]!, () => null)).toMatchObject({ kind: 'windows' });
  });

  it("parses macOS's mount lines", () => {
    const mac = parseMacMounts([
      '/dev/disk3s1s1 on / (apfs, sealed, local, read-only, journaled)',
      '/dev/disk4s1 on /Volumes/NO NAME (msdos, local, nodev, nosuid, noowners)',
      '/dev/disk5s1 on /Volumes/Big Drive (exfat, local, nodev, nosuid, noowners)',
      '//user@server/share on /Volumes/share (smbfs, nodev, nosuid, mounted by user)',
    ].join('\n'));
    expect(mac.map((m) => [m.mountPoint, kindOf(m, () => null).kind])).toEqual([
      ['/', 'apfs'], ['/Volumes/NO NAME', 'fat'], ['/Volumes/Big Drive', 'exfat'], ['/Volumes/share', 'smb'],
    ]);
  });

  it('first sectors of real images made by mkfs.vfat, mkfs.exfat and mkfs.ntfs', () => {
    const t = tempDir('aenv-sectors-');
    try {
      const make = (name: string, cmd: string[]): Uint8Array => {
        const img = path.join(t.dir, name);
        writeFileSync(img, '');
        spawnSync('truncate', ['-s', '40M', img]);
        const r = spawnSync(cmd[0]!, [...cmd.slice(1), img]);
        if (r.error || r.status !== 0) throw new Error(`${cmd[0]} failed (apt: dosfstools exfatprogs ntfs-3g): ${r.error?.message ?? r.stderr.toString()}`);
        return readFileSync(img).subarray(0, 512);
      };
      expect(bootSectorKind(make('fat.img', ['mkfs.vfat', '-F', '32']))).toEqual({ kind: 'fat', label: 'FAT32' });
      expect(bootSectorKind(make('exfat.img', ['mkfs.exfat']))).toEqual({ kind: 'exfat', label: 'exFAT' });
      expect(bootSectorKind(make('ntfs.img', ['mkfs.ntfs', '-F', '-Q']))).toEqual({ kind: 'ntfs', label: 'NTFS' });
      expect(bootSectorKind(new Uint8Array(512))).toBeNull();
    } finally {
      t.cleanup();
    }
  });
});

describe('the probe of a folder', () => {
  let t: { dir: string; cleanup: () => void };
  beforeAll(() => {
    t = tempDir('aenv-probe-');
  });
  afterAll(() => t.cleanup());

  it("on Linux's own file system: case and normalisation kept apart, hard links, modes; nothing left behind", () => {
    const p = probeFolder(t.dir);
    expect(p).toEqual({ caseInsensitive: false, normalizationInsensitive: false, unicode: true, hardLinks: true, modes: true });
    expect(readdirSync(t.dir)).toEqual([]);
  });

  it('a folder where nothing can be created: no probe', () => {
    expect(probeFolder('/proc')).toBeNull();
  });

  it("its names are aenv's temporary names (a killed run's probe is removed by the next run)", () => {
    for (const ending of ['.partial', '.probe\u00e9']) {
      const name = probeName(ending);
      expect(isTempName(name), name).toBe(true);
      expect(name.startsWith(`.aenv-${process.pid}-${hostTag()}`)).toBe(true);
    }
    expect(isTempName('.aenv-123-0123456789abcdef.probee\u0301')).toBe(true); // stored decomposed (HFS+)
    expect(isTempName('.aenv-123-0123456789abcdef.probe')).toBe(false);
    // a probe left by a run that died: the next run's clean-up removes it
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    const left = path.join(t.dir, probeName('.probe\u00e9').replace(`-${process.pid}-`, `-${dead}-`));
    writeFileSync(left, 'x');
    expect(removeStaleTemps(t.dir)).toEqual([left]);
  });

  it("Linux's own file systems are known from the table, not probed; the warning about a shared folder keeps its words there", () => {
    const targets = new Targets();
    const tg = targets.of(path.join(t.dir, 'not', 'yet'));
    if (process.platform === 'linux') {
      expect(tg.kind).toBe('posix');
      expect(targets.probes).toBe(0);
      expect(mayFold([t.dir]) || process.platform === 'linux').toBe(true);
    }
    // the words are engine/statuses.ts's since issue 21 ("without the sticky bit, or as its owner")
    expect(sharedFolderWarning(t.dir)).toMatch(/^other users can write to .* \(without the sticky bit, or as its owner\)/);
    expect(sharedFolderWarning(t.dir, 'win32')).toBeNull(); // Windows' ACLs are not visible to Node: nothing true to say
  });
});

// ------------------------------------------------------------------------------------ the guard

class FixedTargets extends Targets {
  constructor(private readonly t: Target) {
    super();
  }
  override of(): Target {
    return this.t;
  }
  override seen(): Target[] {
    return [this.t];
  }
}

const FAT = targetFrom('fat', 'FAT32 (test)', '/mnt', null);
const NTFS3G = targetFrom('ntfs', 'NTFS (ntfs-3g)', '/mnt', { caseInsensitive: false, normalizationInsensitive: false, unicode: true, hardLinks: true, modes: false });

function plan(base: string, rel: string): Planned {
  const relDir = path.dirname(rel) === '.' ? '' : path.dirname(rel);
  return { base, relDir, output: path.join(base, rel), within: null, baseId: null };
}

function verdicts(g: NameGuard, base: string, rels: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of rels) {
    try {
      const a = g.admit(plan(base, r));
      out[r] = a.renamed ? `renamed ${a.renamed.toRel}` : 'ok';
    } catch (e) {
      if (!(e instanceof TargetError)) throw e;
      out[r] = `${e.status}: ${e.message}`;
    }
  }
  return out;
}

describe('the guard: every planned output checked against its drive before it is written', () => {
  let t: { dir: string; cleanup: () => void };
  beforeAll(() => {
    t = tempDir('aenv-guard-');
  });
  afterAll(() => t.cleanup());

  it('with a pass before the run: both names of a pair fail, each naming the other; bad names fail on their own', async () => {
    const base = path.join(t.dir, 'out1');
    const rels = ['Report.txt', 'plain.txt', 'report.txt', 'sub/a:b?.txt', 'CON.txt'];
    const g = new NameGuard(false, new FixedTargets(FAT));
    await g.prepass(rels.map((r) => plan(base, r)));
    expect(g.recorded).toBe(0); // only the conflicts are kept
    expect(g.conflictCount).toBe(1);
    const v = verdicts(g, base, rels);
    expect(v['plain.txt']).toBe('ok');
    expect(v['Report.txt']).toMatch(/^name-conflict: its output .*out1\/Report\.txt and .*out1\/report\.txt \(another output of this run\) are one name on FAT32 \(test\), which does not tell upper and lower case apart/);
    expect(v['report.txt']).toMatch(/^name-conflict: its output .*report\.txt and .*Report\.txt/);
    expect(v['sub/a:b?.txt']).toMatch(/^bad-name: its output name "a:b\?\.txt" holds ":" and "\?"/);
    expect(v['CON.txt']).toMatch(/^bad-name: .*device name CON/);
  });

  it('without a pass (a list on standard input): the first of a pair is let through, the second fails naming it', () => {
    const base = path.join(t.dir, 'out2');
    const g = new NameGuard(false, new FixedTargets(FAT));
    const v = verdicts(g, base, ['Report.txt', 'plain.txt', 'report.txt']);
    expect(v['Report.txt']).toBe('ok');
    expect(v['report.txt']).toMatch(/^name-conflict: its output .*report\.txt and .*Report\.txt \(another output of this run\)/);
    expect(verdicts(g, base, ['plain.txt'])['plain.txt']).toBe('ok'); // the same name again is not a conflict (the commit says exists)
  });

  it('a name that folds onto a file already in the folder (not the same name) fails; the same name is left to exists/--skip-existing', async () => {
    const base = path.join(t.dir, 'out3');
    mkdirSync(base);
    writeFileSync(path.join(base, 'REPORT.TXT'), 'there before');
    writeFileSync(path.join(base, 'plain.txt'), 'there before');
    writeFileSync(path.join(base, '.aenv-1-0123456789abcdef.partial'), ''); // never counted
    const g = new NameGuard(false, new FixedTargets(FAT));
    await g.prepass([plan(base, 'Report.txt'), plan(base, 'plain.txt'), plan(base, '.AENV-1-0123456789ABCDEF.PARTIAL')]);
    const v = verdicts(g, base, ['Report.txt', 'plain.txt']);
    expect(v['Report.txt']).toMatch(/^name-conflict: its output .*Report\.txt and .*REPORT\.TXT \(already there\)/);
    expect(v['plain.txt']).toBe('ok');
  });

  it('folders: two spellings are one folder where the drive folds names itself (FAT), two folders Windows cannot tell apart on ntfs-3g', async () => {
    const base = path.join(t.dir, 'out4');
    const rels = ['Sub/x.txt', 'sub/y.txt', 'sub/X.txt'];
    const fat = new NameGuard(false, new FixedTargets(FAT));
    await fat.prepass(rels.map((r) => plan(base, r)));
    const v = verdicts(fat, base, rels);
    expect(v['sub/y.txt']).toBe('ok');
    expect(v['Sub/x.txt']).toMatch(/^name-conflict: its output .*Sub\/x\.txt and .*Sub\/X\.txt/); // one folder: x and X collide
    const ntfs = new NameGuard(false, new FixedTargets(NTFS3G));
    await ntfs.prepass(rels.map((r) => plan(base, r)));
    const w = verdicts(ntfs, base, rels);
    expect(w['sub/y.txt']).toMatch(/^name-conflict: its folder .*sub and the folder .*Sub .* are one name on NTFS \(ntfs-3g\).*would make 2 folders that Windows cannot tell apart/);
  });

  it('--portable-names: bad names get portable ones, and of a pair the first keeps its name, the other is told apart', async () => {
    const base = path.join(t.dir, 'out5');
    const rels = ['Report.txt', 'report.txt', 'a:b/c?.txt', 'notes.'];
    const g = new NameGuard(true, new FixedTargets(FAT));
    await g.prepass(rels.map((r) => plan(base, r)));
    const v = verdicts(g, base, rels);
    expect(v).toEqual({
      'Report.txt': 'ok',
      'report.txt': expect.stringMatching(/^renamed report~[0-9a-f]{8}\.txt$/),
      'a:b/c?.txt': 'renamed a\uff1ab/c\uff1f.txt',
      'notes.': 'renamed notes\uff0e',
    });
    const a = g.admit(plan(base, 'a:b/c?.txt'));
    expect(a.planned.output).toBe(path.join(base, 'a\uff1ab', 'c\uff1f.txt'));
    expect(a.renamed).toMatchObject({ from: path.join(base, 'a:b/c?.txt'), fromRel: 'a:b/c?.txt', scheme: 'look-alike' });
    expect(a.renamed!.reason).toMatch(/^FAT32 \(test\): "a:b" holds ":" .*; "c\?\.txt" holds "\?"/);
  });

  it('too-large: a plaintext over 4 GiB - 1 byte on FAT; no limit on others', () => {
    const g = new NameGuard(false, new FixedTargets(FAT));
    const a = g.admit(plan(t.dir, 'big.bin'));
    expect(() => NameGuard.checkSize(a, FAT_MAX_FILE)).not.toThrow();
    expect(() => NameGuard.checkSize(a, FAT_MAX_FILE + 1)).toThrow(/larger than FAT32 \(test\) holds in one file \(4 GiB - 1 byte\)/);
    const n = new NameGuard(false, new FixedTargets(NTFS3G)).admit(plan(t.dir, 'big.bin'));
    expect(() => NameGuard.checkSize(n, 2 ** 40)).not.toThrow();
  });

  it("on Linux's own file systems: only the name's length, and nothing kept per name", async () => {
    const g = new NameGuard(false, new FixedTargets(targetFrom('posix', 'ext4', '/', null)));
    await g.prepass([plan(t.dir, 'Report.txt'), plan(t.dir, 'report.txt')]);
    expect(verdicts(g, t.dir, ['Report.txt', 'report.txt', 'a:b?.txt', `${'\u00e9'.repeat(128)}.txt`])).toEqual({
      'Report.txt': 'ok', 'report.txt': 'ok', 'a:b?.txt': 'ok', [`${'\u00e9'.repeat(128)}.txt`]: expect.stringMatching(/^bad-name: .*is 260 bytes long \(at most 255\)/),
    });
  });

  it('measured: the pass and the checks over 200,000 names in 200 folders on a FAT drive (time and memory printed)', async () => {
    const base = path.join(t.dir, 'big');
    const N = 200_000;
    const names = function* (): Generator<Planned> {
      for (let i = 0; i < N; i++) yield plan(base, `folder-${i % 200}/Report-${i}-${(i * 2654435761 >>> 0).toString(36)}.csv`);
      yield plan(base, 'folder-7/report-7-' + ((7 * 2654435761) >>> 0).toString(36) + '.csv'); // one pair
    };
    global.gc?.();
    const heap0 = process.memoryUsage().heapUsed;
    const g = new NameGuard(false, new FixedTargets(FAT));
    const t0 = performance.now();
    let peak = 0;
    let n = 0;
    await g.prepass((function* () {
      for (const p of names()) {
        if (++n % 50_000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed - heap0);
        yield p;
      }
    })());
    const t1 = performance.now();
    let failed = 0;
    for (const p of names()) {
      try {
        g.admit(p);
      } catch {
        failed++;
      }
    }
    const t2 = performance.now();
    expect(g.conflictCount).toBe(1);
    expect(failed).toBe(2);
    console.log(`guard, 200,000 names in 200 folders (FAT): pass ${(t1 - t0).toFixed(0)} ms, checks ${(t2 - t1).toFixed(0)} ms, heap during the pass up to ${(peak / 2 ** 20).toFixed(1)} MiB`);
  }, 120_000);
});
