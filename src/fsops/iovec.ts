// Scattered reads and gathered writes (readv(2), writev(2)) may move fewer bytes than asked
// for: what is left of a list of buffers after the first `n` bytes, to go on with.

/** The views after the first `n` bytes of `bufs` (the first one cut where the n-th byte ends). */
export function after(bufs: readonly Uint8Array[], n: number): Uint8Array[] {
  let i = 0;
  while (i < bufs.length && n >= bufs[i]!.length) n -= bufs[i++]!.length;
  const rest = bufs.slice(i);
  if (rest.length) rest[0] = rest[0]!.subarray(n);
  return rest;
}
