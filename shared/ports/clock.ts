/** Time source; tests and the simulation drive a controllable one. */
export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };

/**
 * Simulated time that runs `scale` times faster than real time from `start`: the simulation of a
 * county day drives the whole system (leases, SLA clocks, expiries) at this pace.
 */
export class ScaledClock implements Clock {
  private readonly realStart = Date.now();
  constructor(
    private readonly start: number,
    private readonly scale: number,
  ) {}
  now(): Date {
    return new Date(this.start + (Date.now() - this.realStart) * this.scale);
  }
}
