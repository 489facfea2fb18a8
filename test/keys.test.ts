// Passwords and the per-run key cache (src/crypto/keys.ts), in process: what AENV/1 refuses as a
// password (empty, unpaired surrogates, bytes that are not UTF-8: a usage error, never a
// lenient decoding that would collapse passwords into one key, issue 9 item 4), NFC, and the
// KeyCache: one derivation per (password, KDF, parameters, salt), never one password's key for
// another's request, and the --kdf-budget bound (issue 15): once the run's derivations have
// taken the budget, no new one starts, and the error says how much was spent on how many.

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KdfBudgetError, KeyCache, PasswordError, passwordBytes, passwordFromBytes } from '../src/crypto/keys.js';
import { KDF_PBKDF2 } from '../src/format/constants.js';
import { getBackend } from './helpers/backends.js';

const node = getBackend('node');
const PBKDF2 = { kdf: KDF_PBKDF2, p1: 100_000, p2: 0, p3: 0 } as const;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('passwords', () => {
  it('the empty password and unpaired surrogates are refused with their reason', () => {
    expect(() => passwordBytes('')).toThrow(new PasswordError('the password is empty'));
    expect(() => passwordBytes('ab\uD800c')).toThrow(new PasswordError('the password is not valid text (unpaired surrogate)'));
    expect(() => passwordBytes('\uDC00')).toThrow(PasswordError);
  });

  it('is the UTF-8 of its NFC form', () => {
    expect(hex(passwordBytes('e\u0301'))).toBe(hex(Buffer.from('\u00e9', 'utf8')));
    expect(hex(passwordBytes('pw ☃'))).toBe(hex(Buffer.from('pw ☃', 'utf8')));
  });

  it('bytes that are not UTF-8 are refused, never decoded leniently (Latin-1 passwords would all become U+FFFD)', () => {
    expect(passwordFromBytes(Buffer.from('pässwörd', 'utf8'))).toBe('pässwörd');
    for (const bad of [Buffer.from('p\xe4ss', 'latin1'), Buffer.of(0xff), Buffer.of(0xc3), Buffer.of(0xed, 0xa0, 0x80)]) {
      expect(() => passwordFromBytes(bad)).toThrow(new PasswordError('the password is not valid UTF-8'));
    }
    expect(passwordFromBytes(Buffer.of(0xef, 0xbb, 0xbf, 0x61))).toBe('\uFEFFa'); // a BOM is kept: it is part of the password
  });
});

describe('KeyCache', () => {
  it('needs at least one password', () => {
    expect(() => new KeyCache(node, [])).toThrow(new PasswordError('no password'));
    expect(new KeyCache(node, [passwordBytes('a'), passwordBytes('b')]).size).toBe(2);
    expect(new KeyCache(node, passwordBytes('a')).size).toBe(1);
  });

  it('derives each (password, parameters, salt) once, concurrent requests included, and never answers one password with another\'s key', async () => {
    const salt = randomBytes(32);
    const keys = new KeyCache(node, [passwordBytes('first'), passwordBytes('second')]);
    const [a, a2] = await Promise.all([keys.master(PBKDF2, salt, 0), keys.master(PBKDF2, salt, 0)]);
    expect(keys.derivations).toBe(1);
    expect(a2).toBe(a);
    const b = await keys.master(PBKDF2, salt, 1);
    expect(keys.derivations).toBe(2);
    expect(hex(b)).not.toBe(hex(a));
    expect(hex(b)).toBe(hex(await node.kdf(passwordBytes('second'), salt, PBKDF2)));
    await keys.master({ ...PBKDF2, p1: 100_001 }, salt, 0);
    await keys.master(PBKDF2, randomBytes(32), 0);
    expect(keys.derivations).toBe(4);
  });

  it('a budget of 0 starts no derivation at all', async () => {
    const keys = new KeyCache(node, passwordBytes('pw'), 0);
    const e = await keys.master(PBKDF2, randomBytes(32)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(KdfBudgetError);
    expect((e as Error).message).toBe('key-derivation budget used up (0.0 s on 0 derivations): not tried');
    expect(keys.derivations).toBe(0);
  });

  it('once the derivations took the budget, the next one is refused, naming the time spent and how many ran', async () => {
    const keys = new KeyCache(node, passwordBytes('pw'), 1); // 1 ms: the first derivation alone uses it up
    const t0 = performance.now();
    await keys.master(PBKDF2, randomBytes(32));
    const took = performance.now() - t0;
    expect(keys.spentMs).toBeGreaterThan(1);
    expect(keys.spentMs).toBeLessThanOrEqual(took + 1);
    const e = await keys.master(PBKDF2, randomBytes(32)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(KdfBudgetError);
    expect((e as KdfBudgetError).derivations).toBe(1);
    expect((e as Error).message).toBe(`key-derivation budget used up (${(keys.spentMs / 1000).toFixed(1)} s on 1 derivation): not tried`);
    expect(keys.derivations).toBe(1);
  });

  it('a failed derivation counts its time too, and its error reaches the caller', async () => {
    const failing = { ...node, kdf: () => new Promise<Uint8Array>((_, reject) => setTimeout(() => reject(new Error('out of memory')), 30)) };
    const keys = new KeyCache(failing, passwordBytes('pw'), 10);
    await expect(keys.master(PBKDF2, randomBytes(32))).rejects.toThrow('out of memory');
    expect(keys.spentMs).toBeGreaterThanOrEqual(25);
    await expect(keys.master(PBKDF2, randomBytes(32))).rejects.toBeInstanceOf(KdfBudgetError);
  });

  it('runs of IBM\'s tool are charged to the same budget (issue 21): checkBudget() refuses once they took it, and so does the next derivation', async () => {
    const keys = new KeyCache(node, passwordBytes('pw'), 100);
    keys.checkBudget(); // nothing spent
    keys.charge(60);
    expect([keys.spentMs, keys.toolRuns, keys.derivations]).toEqual([60, 1, 0]);
    keys.checkBudget(); // 60 < 100
    let e: unknown = null;
    try {
      keys.charge(40); // exactly the budget: used up
      keys.checkBudget();
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(KdfBudgetError);
    expect((e as KdfBudgetError).toolRuns).toBe(2);
    expect((e as Error).message).toBe('key-derivation budget used up (0.1 s on 0 derivations and 2 runs of IBM\'s tool): not tried');
    const d = await keys.master(PBKDF2, randomBytes(32)).catch((x: unknown) => x);
    expect(d).toBeInstanceOf(KdfBudgetError);
    expect(keys.derivations).toBe(0);
    expect(new KdfBudgetError(2500, 3, 1).message).toBe('key-derivation budget used up (2.5 s on 3 derivations and 1 run of IBM\'s tool): not tried');
  });
});
