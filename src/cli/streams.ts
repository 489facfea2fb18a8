// `decrypt -` and `encrypt -` on the command line: standard input to standard output, messages
// on standard error, exit 1 when the stream proves truncated or damaged.

import { loadBackend } from '../crypto/load.js';
import { passwordBytes } from '../crypto/keys.js';
import { newContext } from '../engine/context.js';
import { DIGEST_WARNING } from '../engine/files.js';
import { decryptStream, encryptStream } from '../engine/stdio.js';
import { failure, isFailure } from '../engine/results.js';
import { keyCacheFor, passwordsFor, type WriteArgs } from './commands.js';
import { sealingFor, type EncryptArgs } from './encrypt.js';
import { UsageError } from './errors.js';
import { getPassword } from './password.js';
import { SIGNAL_STATUS } from './run-files.js';
import { HINTS } from './statuses.js';

async function password(a: WriteArgs, verb: string): Promise<string> {
  const pw = await getPassword({ passwordFile: a.passwordFile, prompt: false, confirm: false, stdinFree: false });
  if (pw === null) throw new UsageError(`${verb} - needs a password`, 'standard input carries the data: use --password-file FILE or ASPERA_SCP_FILEPASS');
  return pw;
}

function finish(a: WriteArgs, r: { status: string; bytes: number; detail: string; warning?: string }): void {
  if (a.json) {
    process.stderr.write(JSON.stringify({ path: '-', output: '-', ...r }) + '\n');
  } else if (r.status !== 'ok' || r.warning) {
    process.stderr.write(`aenv: ${r.status === 'ok' ? 'warning' : 'error'}: standard input: ${r.status === 'ok' ? r.warning : r.detail}\n`);
    const hint = r.status === 'not-envelope'
      ? `${HINTS['not-envelope']}; IBM's asunprotect reads files, not streams: save the stream to a file and decrypt that`
      : HINTS[r.status as keyof typeof HINTS];
    // Only a corrupt stream can have released plaintext (steps 1-6 fail before any output).
    const prefix = r.status === 'corrupt' ? '; the output so far is a verified prefix only' : '';
    if (r.status !== 'ok' && hint) process.stderr.write(`aenv: hint: ${hint}${prefix}\n`);
  }
}

export async function runStream(a: WriteArgs | EncryptArgs, verb: 'decrypt' | 'encrypt'): Promise<number> {
  if (verb === 'encrypt' && process.stdout.isTTY) {
    throw new UsageError('refusing to write a binary envelope to a terminal', 'redirect standard output to a file or a pipe');
  }
  const pws = verb === 'encrypt' ? await (async () => { const pw = await password(a, verb); return { bytes: [passwordBytes(pw)], texts: [pw], lines: null }; })() : (await passwordsFor(a, () => password(a, verb)))!;
  const backend = await loadBackend(a.backend);
  const keys = keyCacheFor(backend, pws, a);
  const ctx = newContext(backend, keys);
  ctx.passwordLines = pws.lines;
  // A stream leaves no file behind, and a read from an idle pipe or terminal would never see
  // the run's flag: SIGINT ends it at once. What was written is a verified prefix (decrypt)
  // or an envelope without its last chunk and trailer, which every decoder rejects (encrypt).
  // SIGTERM and SIGHUP alike, with their own exit statuses (run-files.ts SIGNAL_STATUS).
  const handlers = Object.entries(SIGNAL_STATUS).map(([sig, code]) => {
    const handler = (): void => {
      ctx.interrupted = true;
      process.stderr.write('\naenv: interrupted: the output is incomplete\n');
      process.exit(code);
    };
    process.on(sig, handler);
    return [sig, handler] as const;
  });
  const stop = (): void => {
    for (const [sig, handler] of handlers) process.off(sig, handler);
  };
  try {
    if (verb === 'encrypt') {
      const out = await encryptStream(process.stdin, process.stdout, ctx, await sealingFor(a as EncryptArgs, keys));
      finish(a, { status: 'ok', bytes: out.bytes, detail: 'sealed' });
      return 0;
    }
    const out = await decryptStream(process.stdin, process.stdout, ctx);
    const line = ctx.passwordLines && out.password !== undefined ? ctx.passwordLines[out.password] : undefined;
    finish(a, { status: 'ok', bytes: out.bytes, detail: 'decrypted', ...(line !== undefined ? { password: line } : {}), ...(out.digestOk === false ? { warning: DIGEST_WARNING } : {}) });
    return 0;
  } catch (e) {
    if (ctx.interrupted) return 130;
    const r = failure('-', '-', e);
    if ((e as NodeJS.ErrnoException)?.code === 'EPIPE') r.detail = 'standard output was closed before the end (the reader went away)';
    finish(a, r);
    return isFailure(r.status) ? 1 : 0;
  } finally {
    stop();
    await ctx.pool?.close();
  }
}
