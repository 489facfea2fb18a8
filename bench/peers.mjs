// The peer tools the bench compares aenv with: age (X25519 identity), gpg --symmetric (AES-256,
// in a temporary GNUPGHOME so the user's ~/.gnupg is never touched), openssl dgst -sha256,
// the Debian reference argon2 CLI, cp and find. Finds them, their versions, and sets them up.

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { onCleanup, onPath, run } from './lib.mjs';

const firstLine = (s) => (s ?? '').trim().split('\n')[0] ?? '';

/** Which peers exist here, with a version line each (null when missing). */
export function findPeers() {
  const v = (bin, args) => (bin ? firstLine(spawnSync(bin, args, { encoding: 'utf8' }).stdout) || '?' : null);
  const age = onPath('age'), ageKeygen = onPath('age-keygen');
  const gpg = onPath('gpg'), openssl = onPath('openssl'), argon2 = onPath('argon2');
  const dpkg = (pkg) => firstLine(spawnSync('dpkg-query', ['-W', '-f', '${Version}', pkg], { encoding: 'utf8' }).stdout) || '?';
  return {
    age: age && ageKeygen ? { bin: age, keygen: ageKeygen, version: v(age, ['--version']) } : null,
    gpg: gpg ? { bin: gpg, version: v(gpg, ['--version']) } : null,
    openssl: openssl ? { bin: openssl, version: v(openssl, ['version']) } : null,
    // The Debian argon2 CLI has no --version; its package version stands in.
    argon2: argon2 ? { bin: argon2, version: `argon2 (Debian package ${dpkg('argon2')})` } : null,
  };
}

export const install = {
  age: 'apt-get install age',
  gpg: 'apt-get install gnupg',
  openssl: 'apt-get install openssl',
  argon2: 'apt-get install argon2',
};

/** age-keygen an X25519 identity; returns { key (identity file), pub } or { error }. */
export async function ageIdentity(peer, dir) {
  const key = join(dir, 'age-key.txt');
  const k = await run([peer.keygen, '-o', key], { timeoutS: 30 });
  const y = await run([peer.keygen, '-y', key], { timeoutS: 30, captureStdout: true });
  if (k.code !== 0 || y.code !== 0) return { error: `age-keygen failed: ${firstLine(k.stderr + y.stderr)}` };
  return { key, pub: y.stdout.trim() };
}

/**
 * A private GNUPGHOME for gpg --symmetric with a passphrase file, and the argv makers.
 * The agent gpg starts there is stopped (gpgconf --kill) at cleanup, SIGINT included.
 */
export function gpgSetup(peer, dir, passFile) {
  const home = join(dir, 'gnupg');
  mkdirSync(home, { recursive: true, mode: 0o700 });
  writeFileSync(join(home, 'gpg.conf'), 'no-greeting\n', { mode: 0o600 });
  const env = { ...process.env, GNUPGHOME: home };
  delete env.GPG_AGENT_INFO;
  onCleanup(() => spawnSync('gpgconf', ['--kill', 'gpg-agent'], { env, stdio: 'ignore', timeout: 10_000 }));
  // --no-symkey-cache: every decrypt derives the key from the passphrase (S2K), as aenv runs its KDF.
  const common = [peer.bin, '--batch', '--quiet', '--no-symkey-cache', '--pinentry-mode', 'loopback', '--passphrase-file', passFile];
  return {
    env,
    encrypt: (input, output) => [...common, '--symmetric', '--cipher-algo', 'AES256', '--compress-algo', 'none', '-o', output, input],
    decrypt: (input, output) => [...common, '-o', output, '--decrypt', input],
  };
}

/** The reference argon2 CLI at aenv's Argon2id default: m = 2^16 KiB, t 3, p 1, 32-byte raw output. */
export function argon2Argv(peer, salt) {
  return [peer.bin, salt, '-id', '-m', '16', '-t', '3', '-p', '1', '-l', '32', '-r'];
}
