import { describe, expect, it } from 'vitest';
import { ComputeSlots } from '../../src/pipeline/compute-slots.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('ComputeSlots', () => {
  it('lets `slots` images in at once and the next ones in the order they came', async () => {
    const slots = new ComputeSlots(2);
    const order: string[] = [];
    const a = await slots.take();
    const b = await slots.take();
    const waiting = ['c', 'd'].map((name) =>
      slots.take().then((release) => {
        order.push(name);
        return release;
      }),
    );
    await tick();
    expect(order).toEqual([]);
    a();
    await tick();
    expect(order).toEqual(['c']);
    b();
    await tick();
    expect(order).toEqual(['c', 'd']);
    for (const release of await Promise.all(waiting)) release();
    // Both slots free again: two more get in at once.
    await Promise.all([slots.take(), slots.take()]);
  });

  it('gives a slot back once, however often its release is called', async () => {
    const slots = new ComputeSlots(1);
    const release = await slots.take();
    release();
    release();
    await slots.take();
    let third = false;
    void slots.take().then(() => (third = true));
    await tick();
    expect(third).toBe(false);
  });
});
