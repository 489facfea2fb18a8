// The command-line interface of IBM's own envelope tools, exactly as far as IBM documents it,
// and nothing more. Source: IBM Aspera HST Server / HST Endpoint / Desktop Client admin guides,
// "Client-side encryption-at-rest (EAR)", section "Encrypting and decrypting files outside of a
// transfer" (e.g. https://www.ibm.com/docs/en/ahts/4.4.x?topic=atfcl-client-side-encryption-rest-ear-1):
// "HST Server, HST Endpoint, and Desktop Client include the asprotect and asunprotect
// command-line tools", used as
//     export ASPERA_SCP_FILEPASS=password
//     /opt/aspera/bin/asprotect   -o filename.aspera-env filename
//     /opt/aspera/bin/asunprotect -o filename filename.aspera-env
// One file per call. IBM documents no exit statuses, no overwrite behaviour and no `--` option
// terminator, so aenv relies on: exit status 0 means success, anything else (or a signal) is a
// failure; the password is read from ASPERA_SCP_FILEPASS; `-o OUT` names the file written. Paths
// are always passed absolute so that no argument can be mistaken for an option.

import * as path from 'node:path';

export type ToolName = 'asunprotect' | 'asprotect';

/** The variable IBM's tools (and ascp) read the envelope password from. */
export const PASSWORD_ENV = 'ASPERA_SCP_FILEPASS';

/** aenv's own variables naming each tool (after the flag, before PATH). */
export const TOOL_ENV: Record<ToolName, string> = {
  asunprotect: 'AENV_ASUNPROTECT',
  asprotect: 'AENV_ASPROTECT',
};

/** The flag naming each tool. */
export const TOOL_FLAG: Record<ToolName, string> = {
  asunprotect: '--asunprotect',
  asprotect: '--asprotect',
};

/** The `"via"` value of a row produced by each tool. */
export const VIA: Record<ToolName, string> = { asunprotect: 'asunprotect', asprotect: 'asprotect' };

function absolute(p: string, what: string, pathApi: path.PlatformPath): string {
  if (!pathApi.isAbsolute(p)) throw new Error(`${what} path must be absolute: ${JSON.stringify(p)}`);
  if (p.includes('\0')) throw new Error(`${what} path contains a NUL byte`);
  return p;
}

/** Arguments for `asunprotect -o OUT IN` (decrypt IN, an IBM envelope, into OUT). */
export function unprotectArgs(output: string, input: string, pathApi: path.PlatformPath = path): string[] {
  return ['-o', absolute(output, 'output', pathApi), absolute(input, 'input', pathApi)];
}

/** Arguments for `asprotect -o OUT IN` (seal IN into OUT, an IBM envelope). */
export function protectArgs(output: string, input: string, pathApi: path.PlatformPath = path): string[] {
  return ['-o', absolute(output, 'output', pathApi), absolute(input, 'input', pathApi)];
}

/**
 * A password the tool can receive through its environment: not empty (aenv's rule) and without
 * a NUL character (an environment string cannot carry one). Passed as given, not normalised:
 * how IBM's tool turns it into bytes is not documented.
 */
export function checkToolPassword(pw: string): void {
  if (pw.length === 0) throw new Error('the password is empty');
  if (pw.includes('\0')) throw new Error('the password contains a NUL character, which cannot be passed to IBM\'s tool');
}

// The tool's answer "this file is not my format at all", after which no other password can
// help (issue 21). IBM documents no exit statuses and no messages, so this is an assumption,
// recorded in docs/IBM-TOOLS.md: a failure (non-zero exit status) whose last line says so in
// words like "not an Aspera envelope", "not an encrypted file", "not encrypted", "bad magic",
// "invalid header" or "unknown format", and says nothing of a password or key (a tool that
// cannot tell a wrong password from a foreign file says "wrong password or not encrypted";
// then the other passwords are still tried). The stand-in answers "NAME: not an Aspera envelope"
// with exit status 4.
const NOT_ITS_FORMAT = /\bnot an? (?:(?:aspera|ibm|valid|aspera-env|encrypted) )*(?:envelope|encrypted file|protected file|aspera-env file)\b|\bnot (?:encrypted|protected)\b|\b(?:bad|invalid|unknown|unrecognized|unsupported) (?:file )?(?:magic|header|format)\b/i;
const ABOUT_KEYS = /pass(?:word|phrase)|\bkey\b/i;

/** Whether a failed run's exit status and last line (see above) say the file is not the tool's format. */
export function saysNotItsFormat(code: number | null, lastLine: string): boolean {
  return code !== null && code !== 0 && NOT_ITS_FORMAT.test(lastLine) && !ABOUT_KEYS.test(lastLine);
}

