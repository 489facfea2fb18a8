// Keys of AENV/1 (shared/ENVELOPE.md "Keys"): the password as NFC-normalized UTF-8, the master
// key from the KDF, header and payload keys by HKDF-SHA256 (RFC 5869), header_mac by
// HMAC-SHA256 (RFC 2104) both to check a header (decoding step 6) and to seal a new one, and
// the per-run cache of master keys keyed by (password, kdf, params, salt).

import { randomBytes } from 'node:crypto';
import { FILE_NONCE_LEN, INFO_HEADER, INFO_PAYLOAD } from '../format/constants.js';
import { constantTimeEqual, encodeMacInput, finishHeader, type Header, type HeaderFields } from '../format/header.js';
import type { KdfParams } from '../format/kdf-params.js';
import type { Backend } from './backend.js';

/** A password that AENV/1 cannot use (empty, or not valid UTF-8): a usage error, not a file status. */
export class PasswordError extends Error {}

/** P = UTF-8 of the NFC-normalized password. */
export function passwordBytes(password: string): Uint8Array {
  if (password.length === 0) throw new PasswordError('the password is empty');
  if (!password.isWellFormed()) throw new PasswordError('the password is not valid text (unpaired surrogate)');
  return new TextEncoder().encode(password.normalize('NFC'));
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes password bytes read from a file, the environment or a terminal; rejects invalid UTF-8. */
export function passwordFromBytes(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new PasswordError('the password is not valid UTF-8');
  }
}

export interface FileKeys {
  headerKey: Uint8Array;
  payloadKey: Uint8Array;
}

export function fileKeys(backend: Backend, master: Uint8Array, fileNonce: Uint8Array): FileKeys {
  return {
    headerKey: backend.hkdfSha256(master, fileNonce, INFO_HEADER, 32),
    payloadKey: backend.hkdfSha256(master, fileNonce, INFO_PAYLOAD, 32),
  };
}

/** Step 6: header_mac = HMAC-SHA256(header_key, the first 88 header bytes), all 32 bytes compared. */
export function headerMacMatches(backend: Backend, headerKey: Uint8Array, h: Header): boolean {
  return constantTimeEqual(backend.hmacSha256(headerKey, h.macInput), h.headerMac);
}

/** 32 fresh bytes from the operating system's CSPRNG: a new file's file_nonce. */
export function newFileNonce(): Uint8Array {
  return new Uint8Array(randomBytes(FILE_NONCE_LEN));
}

/** A new file's whole 128-byte header (header_mac and header_check filled in) and its payload key. */
export function sealHeader(backend: Backend, master: Uint8Array, fields: HeaderFields): { header: Uint8Array; payloadKey: Uint8Array } {
  const keys = fileKeys(backend, master, fields.fileNonce);
  const macInput = encodeMacInput(fields);
  return { header: finishHeader(macInput, backend.hmacSha256(keys.headerKey, macInput)), payloadKey: keys.payloadKey };
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** The run's key-derivation time is used up (--kdf-budget): no further KDF is started. */
export class KdfBudgetError extends Error {
  constructor(readonly spentMs: number, readonly derivations: number, readonly toolRuns = 0) {
    const tools = toolRuns > 0 ? ` and ${toolRuns} run${toolRuns === 1 ? '' : 's'} of IBM's tool` : '';
    super(`key-derivation budget used up (${(spentMs / 1000).toFixed(1)} s on ${derivations} derivation${derivations === 1 ? '' : 's'}${tools}): not tried`);
  }
}

/**
 * Master keys for one run, for one password or a list of them (`which` is the index in the
 * list). A batch sealed in one run shares a salt, so 10,000 files cost one KDF per password.
 * KDFs run one at a time (memory is bounded by the largest single one), concurrent requests
 * for the same key wait for the same derivation, and once the derivations of the run have
 * taken `budgetMs` of wall time, no new one starts (a list of passwords must not turn hostile
 * headers, each asking for the costliest KDF the format allows, into hours of work). The runs of
 * IBM's tool, which derives its own keys, count against the same budget (charge()).
 */
export class KeyCache {
  private readonly keys = new Map<string, Promise<Uint8Array>>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly pwIds: string[];
  private readonly passwords: Uint8Array[];
  /** How many derivations actually ran (for tests and reports). */
  derivations = 0;
  /** Wall time spent in derivations so far (IBM's tool's runs included, see charge()). */
  spentMs = 0;
  /** How many runs of IBM's tool were charged. */
  toolRuns = 0;

  constructor(private readonly backend: Backend, password: Uint8Array | readonly Uint8Array[], private readonly budgetMs = Infinity) {
    this.passwords = password instanceof Uint8Array ? [password] : [...password];
    if (this.passwords.length === 0) throw new PasswordError('no password');
    // The cache key includes the password (a digest of it), so a cache can never let one
    // password open files sealed under another.
    this.pwIds = this.passwords.map((pw) => {
      const h = backend.sha256();
      h.update(pw);
      return hex(h.digest());
    });
  }

  /** How many passwords this run tries. */
  get size(): number {
    return this.passwords.length;
  }

  /** Throws KdfBudgetError once the run's derivations (and tool runs) took the budget. */
  checkBudget(): void {
    if (this.spentMs >= this.budgetMs) throw new KdfBudgetError(this.spentMs, this.derivations, this.toolRuns);
  }

  /**
   * Counts `ms` of an outside program's run against the budget: IBM's tool derives a key from the
   * password each time it runs (engine/foreign.ts checks the budget before each run).
   */
  charge(ms: number): void {
    this.spentMs += ms;
    this.toolRuns++;
  }

  master(params: KdfParams, salt: Uint8Array, which = 0): Promise<Uint8Array> {
    const id = `${this.pwIds[which]}:${params.kdf}:${params.p1}:${params.p2}:${params.p3}:${hex(salt)}`;
    let p = this.keys.get(id);
    if (!p) {
      p = this.queue.then(async () => {
        this.checkBudget();
        this.derivations++;
        const t0 = performance.now();
        try {
          return await this.backend.kdf(this.passwords[which]!, salt, params);
        } finally {
          this.spentMs += performance.now() - t0;
        }
      });
      this.queue = p.catch(() => undefined);
      this.keys.set(id, p);
    }
    return p;
  }
}
