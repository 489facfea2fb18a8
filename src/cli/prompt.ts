// The password prompt: one line from the terminal without echo. `terminal: true` always: `read`
// otherwise decides by the output stream, and with standard error redirected (2>log) it left the
// terminal in cooked mode, so the terminal itself echoed the password. The prompt goes to
// whichever of standard error and standard output is a terminal. Ctrl-C at the prompt is an
// interruption (exit 130).

import { Interrupted } from '../engine/context.js';

export async function ask(text: string): Promise<string> {
  const output = process.stderr.isTTY || !process.stdout.isTTY ? process.stderr : process.stdout;
  // What is said before the prompt (a password asked again: why) is printed as it is.
  const cut = text.lastIndexOf('\n') + 1;
  if (cut > 0) output.write(text.slice(0, cut));
  const prompt = text.slice(cut);
  try {
    const { read } = await import('read'); // only when a prompt is shown
    const line = String(await read({ prompt, silent: true, replace: '', terminal: true, input: process.stdin, output }));
    output.write('\n'); // the Enter was not echoed either
    return line;
  } catch (e) {
    if ((e as Error)?.message === 'canceled') {
      output.write('\n');
      throw new Interrupted();
    }
    throw e;
  }
}
