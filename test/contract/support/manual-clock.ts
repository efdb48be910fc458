import type { Clock } from '../../../shared/ports/clock.ts';

/** A clock that moves only when told to. */
export class ManualClock implements Clock {
  private t: number;
  constructor(start: string | Date = '2026-01-01T00:00:00.000Z') {
    this.t = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.t);
  }
  advanceSeconds(s: number): void {
    this.t += s * 1000;
  }
  advanceMs(ms: number): void {
    this.t += ms;
  }
  set(at: string | Date): void {
    this.t = new Date(at).getTime();
  }
}
