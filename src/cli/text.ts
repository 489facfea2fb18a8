// Text helpers for people: sizes, rates and durations; and the escapes every printed field goes
// through (engine/show.ts, docs/text-output.md).

export { jsonLine, safeJson, safeText, showPath } from '../engine/show.js';

export function bytesText(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${Math.round(n)} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

export function rateText(bytes: number, seconds: number): string {
  return seconds > 0 ? `${bytesText(bytes / seconds)}/s` : '-';
}

export function durationText(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  const t = Math.round(s);
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = t % 60;
  return h ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`;
}
