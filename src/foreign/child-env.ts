// The environment IBM's tool runs with: the password in ASPERA_SCP_FILEPASS (the only channel
// IBM documents, ibm-cli.ts) and otherwise as little as a program needs, so nothing of aenv's
// own environment (other secrets, LD_PRELOAD, proxies, shell settings) reaches the tool.
// The password is never put into argv and never into aenv's own process.env.
//
// POSIX:
//   PATH=/usr/bin:/bin   a fixed, system-only search path, for a tool that is a wrapper script
//                        or runs a helper by name; never the user's PATH (no planted programs).
//   LC_ALL=C             messages in one language and encoding, so the detail line is stable.
//   HOME                 copied when set: IBM's tools keep per-user files under it (macOS logs
//                        in ~/Library/Logs/Aspera, per IBM's aspera-cli products.rb), and some
//                        programs fail without it. Not a secret.
// Windows (untested here, no Windows machine): what Windows programs need to start and to find
// their temporary and per-user folders: SystemRoot, windir, SystemDrive, TEMP, TMP,
// USERPROFILE, LOCALAPPDATA, APPDATA, and PATH limited to %SystemRoot%\System32;%SystemRoot%.
// Not passed on any platform: LD_LIBRARY_PATH / DYLD_* (a loader override), TMPDIR (the tool's
// own temporary files, if any, go to the system default), proxies, the terminal variables.

import { PASSWORD_ENV, checkToolPassword } from './ibm-cli.js';
import { envValue } from './install-dirs.js';

const WINDOWS_KEEP = ['SystemRoot', 'windir', 'SystemDrive', 'TEMP', 'TMP', 'USERPROFILE', 'LOCALAPPDATA', 'APPDATA'];

/** The complete environment for one run of IBM's tool. */
export function childEnv(password: string, platform: NodeJS.Platform = process.platform,
  parent: Record<string, string | undefined> = process.env): Record<string, string> {
  checkToolPassword(password);
  const env: Record<string, string> = {};
  if (platform === 'win32') {
    for (const name of WINDOWS_KEEP) {
      const v = envValue(parent, name, platform);
      if (v) env[name] = v;
    }
    const root = env.SystemRoot ?? 'C:\\Windows';
    env.PATH = `${root}\\System32;${root}`;
  } else {
    env.PATH = '/usr/bin:/bin';
    env.LC_ALL = 'C';
    if (parent.HOME) env.HOME = parent.HOME;
  }
  env[PASSWORD_ENV] = password;
  return env;
}
