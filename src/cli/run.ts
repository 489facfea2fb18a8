// The process entry point: runs the CLI and sets the exit status. Used by bin/aenv.js and the
// single-executable bundle.

import { main, reportFatal } from './main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.exitCode = reportFatal(e);
  },
);
