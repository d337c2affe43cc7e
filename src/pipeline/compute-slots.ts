/**
 * At most `slots` images decode, resample and encode at once, while more are in flight: their
 * downloads and uploads (object storage) run outside a slot and overlap that work.
 */
export class ComputeSlots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(slots: number) {
    this.free = slots;
  }

  /** Waits for a slot, first come first served; the function returned gives it back (once). */
  async take(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}
