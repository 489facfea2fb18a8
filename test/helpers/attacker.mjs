// A second user on the same machine, for test/hostile-folders.test.ts: a separate process
// (started as user nobody when the tests run as root) that attacks a folder aenv works in.
// It does one thing, then prints "done ..." (or "failed ...") on standard output and exits.
//   swap-temp DIR        wait for aenv's .aenv-*.partial in DIR, rename it away, put its own file under that name
//   swap-dir DIR TARGET  on "go" (a line on stdin): move DIR aside and put a symbolic link to TARGET in its place
//   fifo FILE            on "go": replace FILE with a named pipe
//   append FILE DIR      wait for aenv's .aenv-*.partial in DIR, then append to FILE
// Waiting polls the folder every millisecond: the attacker sees what any user can see.

import { spawnSync } from 'node:child_process';
import { appendFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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
    default:
      throw new Error(`unknown mode ${mode}`);
  }
  process.exit(0);
} catch (e) {
  say(`failed ${e.message}`);
  process.exit(1);
}
