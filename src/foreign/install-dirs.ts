// The folders IBM's products install their command-line tools into, per platform: the last
// place aenv looks for asunprotect/asprotect (after --asunprotect, AENV_ASUNPROTECT and PATH).
// Sources, each cited at its entry:
//  [ear]    IBM HSTS/HSTE/Desktop Client guides, "Client-side encryption-at-rest (EAR)": asprotect
//           and asunprotect ship with HST Server, HST Endpoint and Desktop Client; Linux example
//           `/opt/aspera/bin/asprotect` (ibm.com/docs/en/ahts/4.4.x?topic=atfcl-client-side-encryption-rest-ear-1).
//  [conf]   IBM HSTS guides, "aspera.conf - Transfer configuration": Linux install root /opt/aspera
//           (/opt/aspera/etc/aspera.conf); IBM Console guide "Setting Up a Windows Node": 32-bit
//           Windows root C:\Program Files (x86)\Aspera\Enterprise Server (…\etc\aspera.conf).
//  [ascli]  IBM's own command-line client, github.com/IBM/aspera-cli, lib/aspera/ascp/products.rb:
//           the product roots it scans for IBM's binaries (HSTS: /opt/aspera, /Library/Aspera,
//           C:\Program Files\Aspera\Enterprise Server; Connect: ~/.aspera/connect,
//           ~/Applications/Aspera Connect.app/Contents/Resources,
//           %LOCALAPPDATA%\Programs\Aspera\Aspera Connect; CLI v1: ~/.aspera/cli,
//           ~/Applications/Aspera CLI, C:\Program Files\Aspera\cli; "IBM Aspera" desktop app:
//           /Applications/IBM Aspera.app/Contents/Resources/sdk/aspera/bin).
// Only [ear] says which products ship asunprotect; the Connect and CLI folders are looked in
// because they hold IBM's binaries too, and a folder without the tool costs one stat.
// The Desktop Client shares HSTS's install root on every platform (same installer family).

import * as path from 'node:path';

export interface InstallDir {
  /** Folder that would hold the tool. */
  dir: string;
  /** IBM product(s) that install there. */
  product: string;
}

type Env = Record<string, string | undefined>;

/** Value of an environment variable; case-insensitive on Windows as Windows itself is. */
export function envValue(env: Env, name: string, platform: NodeJS.Platform): string | undefined {
  if (platform !== 'win32') return env[name];
  const key = Object.keys(env).find((k) => k.toUpperCase() === name.toUpperCase());
  return key === undefined ? undefined : env[key];
}

/** IBM's install folders for `platform`, in the order aenv looks in them. */
export function installDirs(platform: NodeJS.Platform, env: Env, home: string): InstallDir[] {
  if (platform === 'win32') {
    const w = path.win32;
    const pf = envValue(env, 'ProgramFiles', platform) || 'C:\\Program Files';
    const pf86 = envValue(env, 'ProgramFiles(x86)', platform) || 'C:\\Program Files (x86)';
    const local = envValue(env, 'LOCALAPPDATA', platform) || w.join(home, 'AppData', 'Local');
    return [
      { dir: w.join(pf, 'Aspera', 'Enterprise Server', 'bin'), product: 'HST Server, HST Endpoint, Desktop Client (Windows)' }, // [ascli]
      { dir: w.join(pf86, 'Aspera', 'Enterprise Server', 'bin'), product: 'HST Server, HST Endpoint, Desktop Client (Windows, 32-bit)' }, // [conf]
      { dir: w.join(local, 'Programs', 'Aspera', 'Aspera Connect', 'bin'), product: 'Aspera Connect (Windows, per user)' }, // [ascli]
      { dir: w.join(pf, 'Aspera', 'cli', 'bin'), product: 'Aspera CLI (Windows)' }, // [ascli]
    ];
  }
  const p = path.posix;
  if (platform === 'darwin') {
    return [
      { dir: '/Library/Aspera/bin', product: 'HST Server, HST Endpoint, Desktop Client (macOS)' }, // [ascli]
      { dir: '/Applications/IBM Aspera.app/Contents/Resources/sdk/aspera/bin', product: 'IBM Aspera for desktop (macOS)' }, // [ascli]
      { dir: p.join(home, 'Applications', 'Aspera Connect.app', 'Contents', 'Resources'), product: 'Aspera Connect (macOS, per user)' }, // [ascli]
      { dir: '/Applications/Aspera Connect.app/Contents/Resources', product: 'Aspera Connect (macOS)' }, // [ascli]
      { dir: p.join(home, 'Applications', 'Aspera CLI', 'bin'), product: 'Aspera CLI (macOS)' }, // [ascli]
    ];
  }
  // Linux and the other Unix systems (IBM's zLinux and ppc64le guides use the same /opt/aspera root).
  return [
    { dir: '/opt/aspera/bin', product: 'HST Server, HST Endpoint, Desktop Client (Linux)' }, // [ear] [conf] [ascli]
    { dir: p.join(home, '.aspera', 'connect', 'bin'), product: 'Aspera Connect (Linux, per user)' }, // [ascli]
    { dir: p.join(home, '.aspera', 'cli', 'bin'), product: 'Aspera CLI (Linux)' }, // [ascli]
  ];
}
