// What the aenv binary contains besides aenv's own code, for the release: the npm packages
// esbuild bundled into it (read from esbuild's metafile, so a dependency added later is picked
// up with no change here), the small runtime helpers esbuild writes into every bundle, and the
// Node.js runtime. From that list come the third-party licence file shipped in every archive
// (each component's licence text as its authors ship it) and a CycloneDX SBOM. Nothing here
// reads the clock or the build folder: the same inputs give the same bytes.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const LICENSE_FILE = /^(?:licen[cs]e|copying)(?:[-.][\w.-]*)?$/i;

function readJson(file) {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** The licence file of a package folder, or null (LICENSE, license, LICENSE.md, LICENSE-MIT.txt, COPYING...). */
export function licenseFile(dir) {
  const names = readdirSync(dir).filter((n) => LICENSE_FILE.test(n)).sort();
  return names.length ? join(dir, names[0]) : null;
}

function repositoryUrl(pkg) {
  const r = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url;
  if (!r) return pkg.homepage ?? null;
  if (/^[\w.-]+\/[\w.-]+$/.test(r)) return `https://github.com/${r}`; // "owner/name" shorthand
  return r.replace(/^git\+/, '').replace(/\.git$/, '').replace(/^git:\/\//, 'https://').replace(/^github:/, 'https://github.com/');
}

/**
 * The npm packages in an esbuild metafile (one entry per installed package folder, nested
 * copies included): [{ name, version, dir, files, license, licenseFile, repository, integrity,
 * dependencies }] sorted by name, then version, then folder. `integrity` is package-lock.json's.
 * Fails when a package has no licence file, since its notice could not be shipped.
 */
export function bundledPackages(root, metafile) {
  const lock = readJson(join(root, 'package-lock.json'));
  const dirs = new Map();
  for (const input of Object.keys(metafile.inputs)) {
    const matches = [...input.matchAll(/node_modules\/(@[^/]+\/[^/]+|[^/]+)/g)];
    if (matches.length === 0) continue;
    const last = matches[matches.length - 1];
    const dir = input.slice(0, last.index + last[0].length);
    dirs.set(dir, (dirs.get(dir) ?? 0) + 1);
  }
  const out = [];
  for (const [dir, files] of dirs) {
    const pkg = readJson(join(root, dir, 'package.json'));
    const lic = licenseFile(join(root, dir));
    if (!lic) throw new Error(`${dir} (${pkg.name}@${pkg.version}) is bundled into the binary but has no licence file: its notice cannot be shipped`);
    out.push({
      name: pkg.name,
      version: pkg.version,
      dir,
      files,
      license: typeof pkg.license === 'string' ? pkg.license : pkg.license?.type ?? 'UNKNOWN',
      licenseFile: lic,
      repository: repositoryUrl(pkg),
      integrity: lock.packages?.[dir]?.integrity ?? null,
      dependencies: Object.keys(pkg.dependencies ?? {}).sort(),
    });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.version < b.version ? -1 : a.version > b.version ? 1 : a.dir < b.dir ? -1 : 1));
}

/** Where node's resolution finds `dep` from the package folder `dir` (nearest node_modules). */
function resolveDep(dir, dep, known) {
  let d = dir;
  for (;;) {
    const candidate = `${d}/node_modules/${dep}`;
    if (known.has(candidate)) return candidate;
    if (!d.includes('node_modules/')) break;
    d = d.slice(0, d.lastIndexOf('/node_modules/'));
  }
  return known.has(`node_modules/${dep}`) ? `node_modules/${dep}` : null;
}

const RULE = '-'.repeat(78);

/**
 * THIRD-PARTY-NOTICES.txt: every component in the binary and its licence text.
 * node: { version, licenseText }; esbuild: { version, licenseText } (its runtime helpers).
 */
/** One entry per name@version (nested copies of the same version are the same package). */
export function distinctPackages(packages) {
  const seen = new Map();
  for (const p of packages) {
    const key = `${p.name}@${p.version}`;
    if (seen.has(key)) seen.get(key).dirs.push(p.dir);
    else seen.set(key, { ...p, dirs: [p.dir] });
  }
  return [...seen.values()];
}

export function thirdPartyNotices({ product, packages: all, node, esbuild }) {
  const packages = distinctPackages(all);
  const rows = [
    [`Node.js ${node.version}`, 'MIT, and the licences of the libraries built into Node.js (V8, OpenSSL, ICU, libuv, zlib, ...), all in its section'],
    ...packages.map((p) => [`${p.name} ${p.version}`, p.license]),
    [`esbuild ${esbuild.version} (runtime helpers)`, 'MIT'],
  ];
  const width = Math.max(...rows.map(([n]) => n.length)) + 2;
  const L = [];
  L.push(`Third-party software in ${product}`);
  L.push('='.repeat(`Third-party software in ${product}`.length));
  L.push('');
  L.push('The aenv binary is the Node.js runtime with one JavaScript file injected into it (a Node.js');
  L.push("single executable application). That file holds aenv's own code (Apache-2.0, see LICENSE) and");
  L.push('the npm packages below, bundled by esbuild, which also adds a few small helper functions of its');
  L.push('own. Each section gives a component and its licence text as its authors ship it.');
  L.push('');
  for (const [n, l] of rows) L.push(`  ${n.padEnd(width)}${l}`);
  const section = (title, meta, text) => {
    L.push('', RULE, title, ...meta, RULE, '', text.replace(/\r\n/g, '\n').replace(/\s+$/, ''));
  };
  section(`Node.js ${node.version}`, ['License: MIT and others (below)', 'Source: https://github.com/nodejs/node', `Text: the LICENSE file of Node.js ${node.version}`], node.licenseText);
  for (const p of packages) {
    const meta = [`License: ${p.license}`, ...(p.repository ? [`Source: ${p.repository}`] : []), `Text: ${p.dir}/${p.licenseFile.split('/').pop()}`];
    if (p.dirs.length > 1) meta.push(`Bundled from: ${p.dirs.join(', ')}`);
    section(`${p.name} ${p.version}`, meta, readFileSync(p.licenseFile, 'utf8'));
  }
  section(`esbuild ${esbuild.version} (runtime helpers in the bundle)`, ['License: MIT', 'Source: https://github.com/evanw/esbuild'], esbuild.licenseText);
  return `${L.join('\n')}\n`;
}

/** RFC 4122 version 5 UUID (SHA-1, URL namespace) of `name`. */
export function uuidV5(name) {
  const ns = Buffer.from('6ba7b8119dad11d180b400c04fd430c8', 'hex');
  const h = createHash('sha1').update(ns).update(name).digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

function purl(name, version) {
  return `pkg:npm/${name.replace(/^@/, '%40')}@${version}`;
}

function sha512Hex(integrity) {
  const m = /^sha512-(.+)$/.exec(integrity ?? '');
  return m ? Buffer.from(m[1], 'base64').toString('hex') : null;
}

/**
 * CycloneDX 1.5 JSON of a release: aenv (the application), the bundled npm packages, the
 * Node.js runtime package of each target, and each target's binary file with its SHA-256.
 * `dependencies`: aenv's own dependency names (package.json); targets: [{ target, runtime:
 * { pkg, version, integrity }, file, sha256, blobMadeBy?, signature? }] (blobMadeBy: the node
 * package that made the SEA blob when it is not the release's own node; signature: a note on
 * the code signature where the platform has one)
 */
export function cycloneDx({ name, version, license, commit, epoch, dependencies: direct, packages, targets }) {
  const app = `${name}@${version}`;
  const known = new Set(packages.map((p) => p.dir));
  // the same name@version installed twice (nested copies) is one component
  const ref = (p) => `${p.name}@${p.version}`;
  const refOfDir = new Map(packages.map((p) => [p.dir, ref(p)]));
  const components = [];
  const seen = new Set();
  for (const p of packages) {
    const r = ref(p);
    if (seen.has(r)) continue;
    seen.add(r);
    const hash = sha512Hex(p.integrity);
    components.push({
      type: 'library',
      'bom-ref': r,
      name: p.name,
      version: p.version,
      scope: 'required',
      purl: purl(p.name, p.version),
      licenses: [/^[\w.+-]+$/.test(p.license) ? { license: { id: p.license } } : { expression: p.license }],
      ...(hash ? { hashes: [{ alg: 'SHA-512', content: hash }] } : {}),
      ...(p.repository ? { externalReferences: [{ type: 'vcs', url: p.repository }] } : {}),
      properties: [
        { name: 'aenv:bundled-from', value: p.dir },
        { name: 'aenv:bundled-files', value: String(p.files) },
      ],
    });
  }
  for (const t of targets) {
    const hash = sha512Hex(t.runtime.integrity);
    components.push({
      type: 'platform',
      'bom-ref': `${t.runtime.pkg}@${t.runtime.version}`,
      name: t.runtime.pkg,
      version: t.runtime.version,
      description: `Node.js ${t.runtime.version} runtime for ${t.target} (the stock node binary of this npm package; aenv is injected into a copy of it)`,
      scope: 'required',
      purl: purl(t.runtime.pkg, t.runtime.version),
      licenses: [{ license: { id: 'MIT' } }],
      ...(hash ? { hashes: [{ alg: 'SHA-512', content: hash }] } : {}),
      externalReferences: [{ type: 'vcs', url: 'https://github.com/nodejs/node' }],
      properties: [{ name: 'aenv:target', value: t.target }],
    });
    components.push({
      type: 'file',
      'bom-ref': `file:${t.file}`,
      name: t.file,
      version,
      description: `the aenv ${version} binary for ${t.target}`,
      hashes: [{ alg: 'SHA-256', content: t.sha256 }],
      properties: [
        { name: 'aenv:target', value: t.target },
        ...(t.blobMadeBy ? [{ name: 'aenv:sea-blob-made-by', value: t.blobMadeBy }] : []),
        ...(t.signature ? [{ name: 'aenv:code-signature', value: t.signature }] : []),
      ],
    });
  }
  const dependencies = [
    {
      ref: app,
      dependsOn: [...new Set([
        ...direct.filter((d) => known.has(`node_modules/${d}`)).map((d) => refOfDir.get(`node_modules/${d}`)),
        ...targets.map((t) => `${t.runtime.pkg}@${t.runtime.version}`),
      ])].sort(),
    },
  ];
  const done = new Set();
  for (const p of packages) {
    const r = ref(p);
    if (done.has(r)) continue;
    done.add(r);
    const on = p.dependencies.map((d) => resolveDep(p.dir, d, known)).filter(Boolean).map((d) => refOfDir.get(d));
    dependencies.push({ ref: r, dependsOn: [...new Set(on)].sort() });
  }
  for (const t of targets) dependencies.push({ ref: `file:${t.file}`, dependsOn: [app] });
  return {
    $schema: 'http://cyclonedx.org/schema/bom-1.5.schema.json',
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    serialNumber: `urn:uuid:${uuidV5(`${app}+${commit}`)}`,
    version: 1,
    metadata: {
      timestamp: new Date(epoch * 1000).toISOString().replace(/\.000Z$/, 'Z'),
      lifecycles: [{ phase: 'build' }],
      tools: { components: [{ type: 'application', name: 'aenv build-scripts/release.mjs', version }] },
      component: {
        type: 'application',
        'bom-ref': app,
        name,
        version,
        licenses: [{ license: { id: license } }],
        properties: [{ name: 'aenv:commit', value: commit }],
      },
    },
    components,
    dependencies,
  };
}
