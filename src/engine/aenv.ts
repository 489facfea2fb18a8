// AENV/1 in a run (docs/FORMAT.md "Keys", "Decoding a file", "Encoding"): a file's keys from the
// run's key cache (decoding step 6, each password of the run in turn), an envelope decrypted into
// a new output (steps 7-12; engine/pipeline.ts moves the blocks) or checked (verify: keyed, every
// step; without a password, the structure and the content digest), and a file sealed (one salt
// and master key per run, a fresh file nonce per file). What was read or written of an envelope
// (file nonce, content digest, plaintext size) goes into its row, for the batch manifest.

import { fileKeys, headerMacMatches, newFileNonce, sealHeader, type FileKeys } from '../crypto/keys.js';
import { OFF_FILE_NONCE, TRAILER_LEN, type SuiteId } from '../format/constants.js';
import { chunkSize, constantTimeEqual, parseHeader, type Header } from '../format/header.js';
import type { KdfParams } from '../format/kdf-params.js';
import { layoutForSize, parseTrailer, type Layout } from '../format/layout.js';
import { EnvelopeError, WrongPassword } from '../format/status.js';
import { AtomicOutput } from '../fsops/atomic.js';
import type { OutputDir } from '../fsops/dirs.js';
import type { InputFile } from '../fsops/input.js';
import { StreamEncoder } from '../stream/encoder.js';
import type { RunContext } from './context.js';
import {
  decryptDigest, DigestCursor, drain, openPayload, payloadMemory, readTrailer, sealFile, sealMemory, type Envelope,
} from './pipeline.js';
import type { Start } from './start.js';
import type { FileResult } from './results.js';
import type { Writer, Written } from './writer.js';

export const DIGEST_WARNING = 'content digest in the trailer does not match, but every chunk authenticated: the plaintext is authentic, the trailer is damaged';
export const WRONG_PASSWORD_DETAIL = 'wrong password (the header is intact but its MAC does not match this password; or the header was forged)';

/** What was read of an envelope, or written of one (the row's `envelope`). */
export type Seen = NonNullable<FileResult['envelope']>;
export const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** The keys of a file whose header MAC matched, and which password of the run's list opened it (its index). */
export interface Unlocked extends FileKeys {
  password: number;
}

/**
 * Step 6: the master key (from the run's cache) and the header MAC, for each password of the
 * run in turn until one matches: at most one KDF per password and salt in the whole run, so a
 * further file of a batch (one salt) costs one HKDF and one HMAC per password. Every file is
 * tried: a batch whose first files have damaged headers is not taken for a wrong password (the
 * fuzz test's case). A wrong password on a large batch is one row per batch for people
 * (cli/view.ts), each row carrying its batch.
 */
export async function unlock(header: Header, run: RunContext): Promise<Unlocked> {
  const cache = run.keys;
  if (!cache) throw new Error('no password');
  const batch = hex(header.salt.subarray(0, 8));
  for (let i = 0; i < cache.size; i++) {
    const keys = fileKeys(run.backend, await cache.master(header.params, header.salt, i), header.fileNonce);
    if (headerMacMatches(run.backend, keys.headerKey, header)) {
      return { ...keys, password: i };
    }
  }
  throw new WrongPassword(cache.size === 1 ? WRONG_PASSWORD_DETAIL
    : `no password of the list matches (${cache.size} tried): the header is intact but its MAC matches none of them (or the header was forged)`, batch);
}

/** Steps 1-5 on an input's first bytes (engine/start.ts): the envelope, or an EnvelopeError (not-envelope, corrupt, unsupported). */
export function envelopeOf(s: Start): Envelope {
  return { src: s.src, size: s.size, header: parseHeader(s.bytes, s.size), whole: s.whole ? s.bytes : null };
}

/** The row's `password` field: the list line that opened the file, when the run has a list. */
function passwordField(run: RunContext, k: Unlocked | null): { password?: number } {
  const line = k && run.passwordLines ? run.passwordLines[k.password] : undefined;
  return line === undefined ? {} : { password: line };
}

/**
 * An input that starts with the AENV magic (or, where no other way is open, one without it:
 * then step 1 says not-envelope), decrypted into an output (a Writer) or checked (check()).
 */
export class EnvelopeOpener implements Writer {
  private env: Envelope | null = null;
  private seen: Seen | null = null;
  private digest: DigestCursor | undefined;
  private keys: Unlocked | null = null;
  private layout: Layout | null = null;
  private expected: Uint8Array | null = null;
  private memory: (() => void) | undefined;

  /** `limit`: decrypt's check of the plaintext's size (the output's drive), asked after step 7; it throws to refuse the file. */
  constructor(private readonly start: Start, private readonly run: RunContext, private readonly limit?: (bytes: number) => void) {}

  /** Steps 1-5, then for decrypt steps 6-8 and the payload's memory; the output's folder is not made before. */
  async ready(): Promise<void> {
    const env = this.open();
    this.digest = decryptDigest(env, this.run) ? new DigestCursor(env, this.run) : undefined; // reads on its own while the key is derived
    if (!env.whole) this.run.pool?.warm(); // the workers start while the key is derived
    await this.keysLayoutTrailer(env, true);
    this.memory = await this.run.memory.acquire(payloadMemory(env, this.layout!, this.run));
  }

  /** Step 10 into a new output, then step 11 (a mismatch is a warning: every chunk authenticated). */
  async write(dir: OutputDir, name: string, sha256: boolean): Promise<Written> {
    const env = this.env!;
    const out = AtomicOutput.create(dir, name);
    try {
      const tap = sha256 ? this.run.backend.sha256() : null;
      if (tap) out.onWrite = (bufs) => bufs.forEach((b) => tap.update(b));
      const bytes = await drain(openPayload(env, this.layout!, this.keys!.payloadKey, this.digest ?? null, this.run), out, env.whole !== null, this.run);
      const computed = this.digest ? await this.digest.result : null;
      if (computed) this.seen!.digest = hex(computed);
      const digestOk = computed === null || constantTimeEqual(computed, this.expected!);
      const n = this.layout!.chunks;
      return {
        out, bytes, ...(tap ? { sha256: tap.digest() } : {}),
        detail: `decrypted ${n} chunk${n === 1 ? '' : 's'}${computed ? '' : ' (content digest not checked: every chunk authenticated; verify checks it)'}`,
        fields: { ...passwordField(this.run, this.keys), ...(digestOk ? {} : { warning: DIGEST_WARNING }), envelope: this.seen! },
      };
    } catch (e) {
      out.discard();
      throw e;
    }
  }

  /**
   * verify: keyed when the run has keys (every step, the content digest included), else
   * passwordless (steps 1-5, 7-9). Writes nothing. A digest that does not match is corrupt here.
   */
  async check(name: string): Promise<FileResult> {
    const env = this.open();
    this.digest = new DigestCursor(env, this.run);
    if (this.run.keys && !env.whole) this.run.pool?.warm(); // the workers start while the key is derived
    await this.keysLayoutTrailer(env, this.run.keys !== null);
    const keys = this.keys;
    if (keys) { // step 10
      this.memory = await this.run.memory.acquire(payloadMemory(env, this.layout!, this.run));
      await drain(openPayload(env, this.layout!, keys.payloadKey, this.digest, this.run), null, false, this.run);
    } else {
      this.run.progress(env.size);
    }
    const computed = await this.digest.result;
    this.seen!.digest = hex(computed);
    if (!constantTimeEqual(computed, this.expected!)) { // step 9 / 11
      throw new EnvelopeError('corrupt', keys
        ? 'content digest mismatch (every chunk authenticated, so the trailer itself is damaged)'
        : 'content digest mismatch: the envelope was damaged in transit or storage');
    }
    const n = this.layout!.chunks;
    return {
      path: name, status: 'ok', bytes: env.size, ...passwordField(this.run, keys),
      detail: keys ? `${n === 1 ? 'its one chunk' : `all ${n} chunks`} authenticated and content digest matches` : 'structure and content digest match (no password: not authenticated)',
      envelope: this.seen!,
    };
  }

  envelope(): Seen | null {
    return this.seen;
  }

  failed(r: FileResult): FileResult {
    return this.seen ? { ...r, envelope: this.seen } : r;
  }

  stop(): void {
    this.digest?.stop();
  }

  /** The payload's memory back; the first bytes go back with the file (engine/files.ts). */
  release(): void {
    this.memory?.();
  }

  /** Steps 1-5 on the first bytes. */
  private open(): Envelope {
    const env = (this.env = envelopeOf(this.start));
    this.seen = { nonce: hex(env.header.fileNonce), digest: null, size: null };
    return env;
  }

  /** Step 6 (when `keyed`), 7 and 8. */
  private async keysLayoutTrailer(env: Envelope, keyed: boolean): Promise<void> {
    this.keys = keyed ? await unlock(env.header, this.run) : null;
    this.layout = layoutForSize(env.size, chunkSize(env.header));
    this.seen!.size = this.layout.plaintextLen;
    this.limit?.(this.layout.plaintextLen); // decrypt: too large for the output's drive
    this.expected = parseTrailer(await readTrailer(env));
    this.seen!.digest = hex(this.expected);
  }
}

// ---------------------------------------------------------------- sealing

/** How one encrypt run seals: one salt and one master key for every file of the run. */
export interface Sealing {
  suite: SuiteId;
  chunkLog2: number;
  params: KdfParams;
  salt: Uint8Array;
  master: Uint8Array;
}

/** A fresh header (new file nonce) and the payload key for one file. */
export function newHeader(run: RunContext, s: Sealing): { header: Uint8Array; payloadKey: Uint8Array } {
  return sealHeader(run.backend, s.master, { suite: s.suite, chunkLog2: s.chunkLog2, params: s.params, salt: s.salt, fileNonce: newFileNonce() });
}

/** A header and a stream encoder for a plaintext of unknown length (standard input). */
export function newEncoder(run: RunContext, s: Sealing): { header: Uint8Array; encoder: StreamEncoder } {
  const { header, payloadKey } = newHeader(run, s);
  return { header, encoder: new StreamEncoder(run.backend.aead(s.suite, payloadKey), 2 ** s.chunkLog2, run.backend.sha256(), header) };
}

/** A plaintext file sealed as an AENV/1 envelope into a new output. */
export class EnvelopeSealer implements Writer {
  private sealed: { header: Uint8Array; payloadKey: Uint8Array } | null = null;
  private memory: (() => void) | undefined;

  constructor(private readonly s: Sealing, private readonly src: InputFile, private readonly run: RunContext) {}

  async ready(): Promise<void> {
    this.sealed = newHeader(this.run, this.s);
    this.memory = await this.run.memory.acquire(sealMemory(this.src.size, 2 ** this.s.chunkLog2, this.run));
  }

  async write(dir: OutputDir, name: string): Promise<Written> {
    const { header, payloadKey } = this.sealed!;
    const out = AtomicOutput.create(dir, name);
    try {
      const tail = new LastBytes(TRAILER_LEN); // the trailer written last: its content digest goes into the manifest
      out.onWrite = (bufs) => bufs.forEach((b) => tail.push(b));
      const chunks = await sealFile(this.src, { suite: this.s.suite, chunkSize: 2 ** this.s.chunkLog2, header, payloadKey }, out, this.run);
      const envelope: Seen = { nonce: hex(header.subarray(OFF_FILE_NONCE, OFF_FILE_NONCE + 32)), digest: hex(parseTrailer(tail.bytes())), size: this.src.size };
      return { out, bytes: this.src.size, detail: `sealed in ${chunks} chunk${chunks === 1 ? '' : 's'}`, fields: { envelope } };
    } catch (e) {
      out.discard();
      throw e;
    }
  }

  failed(r: FileResult): FileResult {
    return r;
  }

  stop(): void {}

  release(): void {
    this.memory?.();
  }
}

/** The last `n` bytes of what went through it. */
class LastBytes {
  private buf = new Uint8Array(0);
  constructor(private readonly n: number) {}
  push(b: Uint8Array): void {
    if (b.length >= this.n) this.buf = b.slice(b.length - this.n);
    else {
      const joined = new Uint8Array(this.buf.length + b.length);
      joined.set(this.buf);
      joined.set(b, this.buf.length);
      this.buf = joined.slice(Math.max(0, joined.length - this.n));
    }
  }
  bytes(): Uint8Array {
    return this.buf;
  }
}
