// What a run's walk passed over without taking it (docs/CLI.md "Inputs"): symbolic links not
// followed, sockets, FIFOs and devices named like the files it takes, links that lead nowhere.
// rsync prints nothing for what it skips; aenv counts each kind in the summary (JSON
// "passed_over"), lists each one with --json and names each one with -v.

import { PASSED_KINDS, type PassedKind } from '../fsops/walk.js';

export type { PassedKind };

const TEXT: Record<PassedKind, { one: string; many: string; why: string }> = {
  symlink: { one: 'symbolic link', many: 'symbolic links', why: 'not followed (--follow-symlinks follows it)' },
  'broken-symlink': { one: 'symbolic link that leads nowhere', many: 'symbolic links that lead nowhere', why: '' },
  socket: { one: 'socket', many: 'sockets', why: '' },
  fifo: { one: 'FIFO', many: 'FIFOs', why: '' },
  device: { one: 'device', many: 'devices', why: '' },
};

/** One passed-over entry, said for people. */
export function passedText(what: PassedKind): string {
  const t = TEXT[what];
  return `${t.one}, ${t.why || 'not a regular file'}: not taken`;
}

export class PassedOver {
  private readonly counts = new Map<PassedKind, number>();

  add(what: PassedKind): void {
    this.counts.set(what, (this.counts.get(what) ?? 0) + 1);
  }

  get total(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c;
    return n;
  }

  /** The summary's "passed_over" (by kind), when the walk passed over anything. */
  fields(): { passed_over?: Partial<Record<PassedKind, number>> } {
    if (this.total === 0) return {};
    return { passed_over: Object.fromEntries(PASSED_KINDS.filter((k) => this.counts.has(k)).map((k) => [k, this.counts.get(k)!])) };
  }

  /** The line under the people's summary table. */
  lines(): string[] {
    if (this.total === 0) return [];
    const parts = PASSED_KINDS.filter((k) => this.counts.has(k)).map((k) => {
      const n = this.counts.get(k)!;
      return `${n} ${n === 1 ? TEXT[k].one : TEXT[k].many}`;
    });
    const follow = this.counts.has('symlink') ? '; --follow-symlinks follows links' : '';
    return [`passed over (not taken): ${parts.join(', ')}${follow}; -v names each`];
  }
}
