// IBM's tool dies with aenv (issue 21): on Linux a process can ask the kernel for a signal when
// its parent dies (prctl PR_SET_PDEATHSIG), which Node.js cannot ask for a child without a
// native addon. util-linux's `setpriv --pdeathsig KILL -- PROGRAM ARGS...` asks for it and then
// execs PROGRAM in the same process (same pid, same process group, the descriptors it was given
// kept), so aenv starts the tool through it when it is there: if aenv is killed (even with
// SIGKILL, when no handler can run) the kernel kills the tool at once.
//
// setpriv is looked for only at fixed system paths (never through PATH), must not be changeable
// by anyone but root and aenv's user (foreign/trust.ts), and must know --pdeathsig (util-linux
// 2.33 and later; its --help says so). Without it the tool runs as before: aenv's SIGINT, SIGTERM
// and SIGHUP handlers still stop its whole group, but after a SIGKILL of aenv the tool runs to
// its end, writing only into aenv's private folder, which no other user can enter and the next
// run over that folder removes. Not covered either way: helpers the tool itself starts (the
// signal is the tool's own; its helpers are stopped with its group by aenv's handlers), and a
// death of aenv in the instant between the fork and setpriv's prctl.

import { programProblem } from './trust.js';

const CANDIDATES = ['/usr/bin/setpriv', '/bin/setpriv'];

let found: string[] | null | undefined;

/** The prefix that makes the tool die with aenv, e.g. ['/usr/bin/setpriv', '--pdeathsig', 'KILL', '--']; null where there is none. */
export function deathWrapper(platform: NodeJS.Platform = process.platform): string[] | null {
  if (platform !== 'linux') return null;
  if (found !== undefined) return found;
  found = null;
  for (const p of CANDIDATES) {
    if (programProblem(p, platform) !== null) continue; // missing, or changeable by another user
    const help = process.getBuiltinModule('node:child_process').spawnSync(p, ['--help'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
    if (help.status === 0 && help.stdout.includes('--pdeathsig')) {
      found = [p, '--pdeathsig', 'KILL', '--'];
      break;
    }
  }
  return found;
}
