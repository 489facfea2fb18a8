#!/usr/bin/env node
// A stand-in for IBM's `asunprotect` and `asprotect`, for aenv's tests (no copy of IBM's tools is
// available here). It follows the interface IBM documents and nothing else:
//     ASPERA_SCP_FILEPASS=password asprotect   -o OUT.aspera-env IN
//     ASPERA_SCP_FILEPASS=password asunprotect -o OUT IN.aspera-env
// one file per call, the password only from the environment, exit status 0 on success and
// non-zero with a message on standard error otherwise. Which tool it is comes from the name it
// was installed under (test/helpers/standin.ts installs it as both, with `#!<node>` as line 1).
//
// Its envelope is NOT IBM's format (which is unpublished): "ASPSTDN1" (8 bytes, not the AENV
// magic), salt (16), IV (12), key check (16), AES-256-GCM ciphertext, tag (16); the keys come
// from scrypt(password, salt, N=2^14, r=8, p=1), so opening really depends on the password.
//
// Exit statuses (the stand-in's own choice; IBM documents none, and aenv relies only on 0 / not 0):
//   0 ok, 1 failure (I/O, simulated fault), 2 usage (bad arguments, ASPERA_SCP_FILEPASS unset),
//   3 wrong password, 4 not a stand-in envelope or damaged.
//
// "Not my format": a file that does not start with the stand-in's magic fails with exit status 4
// and the last line "NAME: not an Aspera envelope" (the answer docs/IBM-TOOLS.md says aenv
// recognises: no other password is tried on that file).
//
// Misbehaviour is chosen per input file by `standin-control.json` beside the installed
// executable (environment variables would not reach it: aenv gives the tool a minimal
// environment): {"rules":[{"match":"GLOB on the input's base name","mode":"...", ...params}],
// "log":"FILE"}, first match wins, default mode "ok". With "log", every call appends one line
// (the input's base name) to FILE before anything else. Modes and their parameters:
//   ok             waitFor        do the work; with `waitFor` (a path), first wait (up to 60 s)
//                                 until something exists there, then open OUT by name and write
//   partial        bytes, exit    write the first `bytes` (default half) of the output, then fail
//   hang           bytes, ignoreTerm (default true), grandchild (default false)
//                                 write `bytes` (default 0), then idle forever
//   slow           chunk, intervalMs   write the output `chunk` bytes (16 KiB) every `intervalMs` (100)
//   stderr-flood   stderrBytes, message, exit   print `stderrBytes` (50 MiB) of noise, then `message`
//   crash          bytes, signal  write `bytes` (1024), then kill itself with `signal` (SIGSEGV)
//   no-output                     exit 0 without touching OUT
//   delete-output                 remove OUT, exit 0
//   replace-inode  fileMode       write a new file (mode 0644) and rename it over OUT, exit 0
//   symlink-output                put a symbolic link at OUT (to a file beside it), exit 0
//   hardlink-output               write OUT, then give it a second name, exit 0
//   echo-password                 print a message containing the password (split over two writes), exit 1
//   straggler                     do the work, leave a helper process running (same group), exit 0
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');

const SELF = fs.realpathSync(process.argv[1]);
const TOOL = path.basename(SELF).replace(/\.c?js$/, '');
const CONTROL = path.join(path.dirname(SELF), 'standin-control.json');
const MAGIC = Buffer.from('ASPSTDN1', 'latin1');
const HEADER = 8 + 16 + 12 + 16;
const TAG = 16;

function say(msg) {
  process.stderr.write(`${TOOL}: ${msg}\n`);
}
/** Ends the run with `code` once everything written so far has reached the pipes (no process.exit). */
class Exit {
  constructor(code) {
    this.code = code;
  }
}
function fail(code, msg) {
  say(msg);
  throw new Exit(code);
}

function keys(password, salt) {
  const k = crypto.scryptSync(Buffer.from(password, 'utf8'), salt, 64, { N: 1 << 14, r: 8, p: 1 });
  const enc = k.subarray(0, 32);
  const check = crypto.createHmac('sha256', k.subarray(32)).update('aspera-standin key check').digest().subarray(0, 16);
  return { enc, check };
}

function protect(plain, password) {
  const salt = crypto.randomBytes(16);
  const iv = crypto.randomBytes(12);
  const { enc, check } = keys(password, salt);
  const c = crypto.createCipheriv('aes-256-gcm', enc, iv);
  const body = Buffer.concat([c.update(plain), c.final()]);
  return Buffer.concat([MAGIC, salt, iv, check, body, c.getAuthTag()]);
}

function unprotect(env, password, name) {
  if (env.length < HEADER + TAG || !env.subarray(0, 8).equals(MAGIC)) fail(4, `${name}: not an Aspera envelope`);
  const salt = env.subarray(8, 24);
  const iv = env.subarray(24, 36);
  const { enc, check } = keys(password, salt);
  if (!crypto.timingSafeEqual(check, env.subarray(36, HEADER))) fail(3, `${name}: wrong password`);
  const d = crypto.createDecipheriv('aes-256-gcm', enc, iv);
  d.setAuthTag(env.subarray(env.length - TAG));
  try {
    return Buffer.concat([d.update(env.subarray(HEADER, env.length - TAG)), d.final()]);
  } catch {
    return fail(4, `${name}: envelope is damaged`);
  }
}

function globRe(glob) {
  const src = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${src}$`);
}

function ruleFor(input) {
  let control;
  try {
    control = JSON.parse(fs.readFileSync(CONTROL, 'utf8'));
  } catch (e) {
    if (e.code === 'ENOENT') return { mode: 'ok' };
    return fail(1, `bad control file ${CONTROL}: ${e.message}`);
  }
  const base = path.basename(input);
  if (control.log) fs.appendFileSync(control.log, `${base}\n`);
  for (const rule of control.rules || []) if (globRe(rule.match).test(base)) return rule;
  return { mode: 'ok' };
}

function writeFile(p, data, mode = 0o644) {
  const fd = fs.openSync(p, 'w', mode); // O_CREAT|O_TRUNC: writes into an existing file as it is
  try {
    for (let off = 0; off < data.length;) off += fs.writeSync(fd, data, off, data.length - off);
  } finally {
    fs.closeSync(fd);
  }
}

function idle() {
  setInterval(() => undefined, 1 << 30);
}

function main() {
  const args = process.argv.slice(2);
  if (args.length !== 3 || args[0] !== '-o' || !args[1] || !args[2]) fail(2, `usage: ${TOOL} -o OUTPUT INPUT`);
  const [, out, input] = args;
  const password = process.env.ASPERA_SCP_FILEPASS;
  if (!password) fail(2, 'ASPERA_SCP_FILEPASS is not set');
  const rule = ruleFor(input);
  let data;
  try {
    data = fs.readFileSync(input);
  } catch (e) {
    fail(1, `cannot read ${input}: ${e.code || e.message}`);
  }
  const result = TOOL === 'asprotect' ? protect(data, password) : unprotect(data, password, path.basename(input));

  switch (rule.mode) {
    case 'ok': {
      if (!rule.waitFor) return writeFile(out, result);
      const until = Date.now() + 60_000;
      const poll = () => {
        if (fs.existsSync(rule.waitFor)) return writeFile(out, result);
        if (Date.now() > until) {
          say(`nothing appeared at ${rule.waitFor}`);
          process.exitCode = 1;
          return undefined;
        }
        setTimeout(poll, 5);
      };
      return poll();
    }
    case 'partial': {
      writeFile(out, result.subarray(0, rule.bytes ?? Math.floor(result.length / 2)));
      return fail(rule.exit ?? 1, `${path.basename(input)}: read error: Input/output error`);
    }
    case 'hang': {
      // Ready to be stopped (handler, helper) before the first byte appears, so a test can wait for it.
      if (rule.ignoreTerm !== false) process.on('SIGTERM', () => undefined);
      if (rule.grandchild) {
        // SELF as an (unused) argument: tests find the helper by the stand-in's path in its command line.
        spawn(process.execPath, ['-e', 'process.on("SIGTERM",()=>{});setInterval(()=>{},1<<30)', SELF], { stdio: 'ignore' });
      }
      writeFile(out, result.subarray(0, rule.bytes ?? 0));
      return idle();
    }
    case 'slow': {
      const chunk = rule.chunk ?? 16 * 1024;
      const fd = fs.openSync(out, 'w', 0o644);
      let off = 0;
      const step = () => {
        if (off >= result.length) {
          fs.closeSync(fd);
          return;
        }
        off += fs.writeSync(fd, result, off, Math.min(chunk, result.length - off));
        setTimeout(step, rule.intervalMs ?? 100);
      };
      return step();
    }
    case 'stderr-flood': {
      const line = `${'noise '.repeat(170)}\n`; // 1021 bytes
      const block = line.repeat(1024);
      let left = rule.stderrBytes ?? 50 * 1024 * 1024;
      const next = () => { // one block at a time, each after the reader took the previous one
        if (left <= 0) {
          say(rule.message ?? 'giving up after the noise above');
          process.exitCode = rule.exit ?? 1;
          return;
        }
        const s = left >= block.length ? block : `${block.slice(0, left - 1)}\n`; // ends on a line end
        left -= s.length;
        process.stderr.write(s, next);
      };
      return next();
    }
    case 'crash':
      writeFile(out, result.subarray(0, rule.bytes ?? 1024));
      process.kill(process.pid, rule.signal ?? 'SIGSEGV');
      return idle(); // in case the signal is caught: never exit 0
    case 'no-output':
      return;
    case 'delete-output':
      fs.rmSync(out, { force: true });
      return;
    case 'replace-inode': {
      const tmp = `${out}.standin-new`;
      writeFile(tmp, result, rule.fileMode ?? 0o644);
      fs.chmodSync(tmp, rule.fileMode ?? 0o644);
      fs.renameSync(tmp, out);
      return;
    }
    case 'symlink-output': {
      const target = `${out}.standin-target`;
      writeFile(target, result);
      fs.rmSync(out, { force: true });
      fs.symlinkSync(target, out);
      return;
    }
    case 'hardlink-output':
      writeFile(out, result);
      fs.linkSync(out, `${out}.standin-copy`);
      return;
    case 'echo-password': {
      const half = Math.floor(password.length / 2);
      process.stderr.write(`${TOOL}: cannot open ${path.basename(input)} with password '${password.slice(0, half)}`);
      setTimeout(() => {
        process.stderr.write(`${password.slice(half)}'\n`);
        process.exitCode = 1;
      }, 30);
      return;
    }
    case 'straggler': {
      writeFile(out, result);
      spawn(process.execPath, ['-e', 'setInterval(()=>{},1<<30)', SELF], { stdio: 'ignore' }).unref();
      return;
    }
    default:
      return fail(1, `unknown mode in control file: ${rule.mode}`);
  }
}

try {
  main();
} catch (e) {
  if (!(e instanceof Exit)) throw e;
  process.exitCode = e.code;
}
