// File names as people should see them in messages and rows.

/** A path quoted JSON-style when it holds control characters (or bytes that were not UTF-8). */
export function showPath(p: string): string {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f\u0080-\u009f\ufffd]/.test(p) ? JSON.stringify(p) : p;
}
