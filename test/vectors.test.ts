// Every vector of the independent implementation (test/vectors/vectors.json) gives its expected
// status for decrypt, keyed verify and passwordless verify, as a file and as a stream, on every
// crypto backend; outputs match the plaintexts, keys match the intermediates, and a failure
// leaves nothing in the output folder.

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getBackend, BACKEND_NAMES, type Backend } from './helpers/backends.js';
import { fileKeys, KeyCache, passwordBytes } from '../src/crypto/keys.js';
import { newContext } from '../src/engine/context.js';
import { decryptFile, verifyFile } from '../src/engine/files.js';
import { failure } from '../src/engine/results.js';
import { parseHeader } from '../src/format/header.js';
import { tempDir, UNDER_MUTATION } from './helpers/cli.js';
import { decryptPieces, pieces } from './helpers/stream.js';
import { vectorPath, vectors } from './helpers/vectors.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const caches = new Map<string, KeyCache>();
function ctxFor(backend: Backend, pw: string | null) {
  if (pw === null) return newContext(backend, null);
  const id = `${backend.name}:${pw}`;
  if (!caches.has(id)) caches.set(id, new KeyCache(backend, passwordBytes(pw)));
  return newContext(backend, caches.get(id)!);
}

const tmp = tempDir('aenv-vectors-');
afterAll(() => tmp.cleanup());

// Under mutation testing (stryker.config.mjs) only the node backend: the mutated code (format,
// stream, keys, commit) is the same on both, and @noble's KDFs at the vectors' costs take seconds
// per derivation, paid again in every mutant run.
describe.each(UNDER_MUTATION ? ['node' as const] : BACKEND_NAMES)('vectors on the %s backend', (name) => {
  const backend = getBackend(name);

  it.each(vectors.map((v) => [v.file, v] as const))('%s: decrypt', async (_f, v) => {
    const out = path.join(tmp.dir, `${name}-${v.file}`);
    const r = await decryptFile(vectorPath(v), { base: tmp.dir, relDir: '', output: out }, { force: false, skipExisting: false, removeSource: false }, ctxFor(backend, v.password));
    expect(r.status, r.detail).toBe(v.expect);
    if (v.expect === 'ok') {
      expect(sha(readFileSync(out))).toBe(v.plaintext_sha256);
      expect(readFileSync(out).length).toBe(v.plaintext_len);
      expect(r.bytes).toBe(v.plaintext_len);
      expect(Boolean(r.warning)).toBe(v.file.startsWith('warn-'));
    }
    // Nothing else in the output folder: no plaintext of a failed file, no temporary file.
    const left = readdirSync(tmp.dir).filter((n) => n.startsWith(`${name}-`) || n.startsWith('.aenv-'));
    expect(left.every((n) => !n.startsWith('.aenv-'))).toBe(true);
    if (v.expect !== 'ok') expect(left).not.toContain(`${name}-${v.file}`);
  });

  it.each(vectors.map((v) => [v.file, v] as const))('%s: verify with and without the password', async (_f, v) => {
    const keyed = await verifyFile(vectorPath(v), ctxFor(backend, v.password));
    expect(keyed.status, keyed.detail).toBe(v.expect_verify);
    const bare = await verifyFile(vectorPath(v), ctxFor(backend, null));
    expect(bare.status, bare.detail).toBe(v.expect_nopassword);
  });

  it.each(vectors.map((v) => [v.file, v] as const))('%s: as a stream', async (_f, v) => {
    const bytes = readFileSync(vectorPath(v));
    // Feed in awkward pieces so chunk boundaries never line up with reads.
    const r = await decryptPieces(pieces(bytes, 777), ctxFor(backend, v.password));
    expect(r.error ? failure('-', undefined, r.error).status : 'ok').toBe(v.expect);
    if (v.expect === 'ok') {
      expect(sha(r.out)).toBe(v.plaintext_sha256);
      expect(r.outcome!.digestOk === false).toBe(v.file.startsWith('warn-'));
    }
  });

  it.each(vectors.filter((v) => v.intermediate).map((v) => [v.file, v] as const))('%s: master, header and payload keys', async (_f, v) => {
    const bytes = readFileSync(vectorPath(v));
    const h = parseHeader(bytes.subarray(0, 128), bytes.length);
    const master = await backend.kdf(passwordBytes(v.password), h.salt, h.params);
    expect(hex(master)).toBe(v.intermediate!.master);
    const k = fileKeys(backend, master, h.fileNonce);
    expect(hex(k.headerKey)).toBe(v.intermediate!.header_key);
    expect(hex(k.payloadKey)).toBe(v.intermediate!.payload_key);
  });
});

describe('limits are enforced before any KDF work', () => {
  it.each(['bad-kdf-too-costly.aspera-env', 'bad-chunk-log2-31.aspera-env', 'bad-suite-3.aspera-env', 'bad-version-2.aspera-env'])('%s derives no key', async (file) => {
    const keys = new KeyCache(getBackend('node'), passwordBytes('x'));
    const ctx = newContext(getBackend('node'), keys);
    const r = await verifyFile(vectorPath(file), ctx);
    expect(r.status).toBe('unsupported');
    expect(keys.derivations).toBe(0);
  });
});

describe('the key cache', () => {
  it('derives once for files sealed in one run, and never shares across passwords', async () => {
    const ok = vectors.filter((v) => v.file.startsWith('ok-s1-k1') || v.file.startsWith('ok-s2-k1'));
    const keys = new KeyCache(getBackend('node'), passwordBytes(ok[0]!.password));
    const ctx = newContext(getBackend('node'), keys);
    for (const v of ok) expect((await verifyFile(vectorPath(v), ctx)).status).toBe('ok');
    expect(keys.derivations).toBe(1);
    const wrong = new KeyCache(getBackend('node'), passwordBytes('not the password'));
    expect((await verifyFile(vectorPath(ok[0]!), newContext(getBackend('node'), wrong))).status).toBe('wrong-password');
  });
});
