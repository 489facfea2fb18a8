// The process entry point: runs the CLI and sets the exit status. Used by bin/aenv.js and the
// single-executable bundle.

import { tuneHeap } from './heap.js';
import { main, reportFatal } from './main.js';

tuneHeap();

// A reader that goes away (`aenv verify DIR | head`) must not crash the run with a stack trace:
// the files are still processed and the exit status still tells; the lost lines are dropped.
// (`decrypt -` notices the closed pipe itself and fails with io-error.) Likewise a terminal that
// hung up (EIO after SIGHUP): the run must still stop IBM's tools and remove its unfinished files.
for (const s of [process.stdout, process.stderr]) {
  s.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED' && e.code !== 'EIO') throw e;
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.exitCode = reportFatal(e);
  },
);
