// V8's garbage collector, set for what aenv's runs allocate (issue 24: passwordless `verify
// --write-checksums` of 100,000 tiny envelopes within 96 MiB of peak RSS). A run keeps little
// JavaScript data alive (about 10 MB, whatever the number of files: the walk, the lanes and the
// list written all stream), but each file allocates some 25 KB of short-lived objects. With
// V8's defaults the young generation then grows to 2 x 32 MiB and garbage piles up in the old
// generation until a full collection: 150 MiB peak where 10 MB is live. Kept at its first size
// (`--semi-space-growth-factor=1`), with the old generation collected once it is 1.1 x what was
// live after the last full collection (`--heap-growing-percent=10`, collections of a small heap
// take milliseconds), the same run peaks at 92-98 MB in the same time, and a 1 GiB decrypt at
// 102 MB instead of 110 MB. The collector reads both flags at each decision, so setting them
// first thing at start-up takes effect (for `node bin/aenv.js` and the single binary alike).

import { setFlagsFromString } from 'node:v8';

export function tuneHeap(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
  setFlagsFromString('--heap-growing-percent=10');
}
