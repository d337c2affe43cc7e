import { describe, expect, test } from 'vitest';
import type { ResampleResult } from '../../src/backends/backend.js';
import type { RawImage, ResampleRequest } from '../../src/types.js';
import { CpuBackend } from '../../src/backends/cpu.js';
import { CudaBackend } from '../../src/backends/cuda/backend.js';
import {
  GpuDispatcher,
  GpuTimeoutError,
  GpuUnavailableError,
} from '../../src/backends/cuda/dispatcher.js';
import type { GpuEngine } from '../../src/backends/cuda/engine.js';
import { NativeError, isStickyCudaError, type CudaDevice } from '../../src/native/index.js';

/** An operation the test finishes by hand. */
function gate<T>() {
  let open!: (value: T) => void;
  let fail!: (err: unknown) => void;
  const promise = new Promise<T>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

const tick = () => new Promise((r) => setImmediate(r));
const sticky = () =>
  new NativeError('ERR_CUDA_STICKY', 'cudaErrorIllegalAddress: an illegal memory access');

describe('GpuDispatcher', () => {
  test('runs operations one at a time, in order', async () => {
    const d = new GpuDispatcher({ timeoutMs: 10_000 });
    const log: string[] = [];
    const gates = [gate<number>(), gate<number>(), gate<number>()];
    const runs = gates.map((g, i) =>
      d.run(`op${i}`, () => {
        log.push(`start ${i}`);
        return g.promise.then((v) => {
          log.push(`end ${i}`);
          return v;
        });
      }),
    );
    await tick();
    expect(log).toEqual(['start 0']);
    gates[1]!.open(1);
    await tick();
    expect(log).toEqual(['start 0']);
    gates[0]!.open(0);
    gates[2]!.open(2);
    expect(await Promise.all(runs)).toEqual([0, 1, 2]);
    expect(log).toEqual(['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
  });

  test('keeps at most maxInFlight operations running', async () => {
    const d = new GpuDispatcher({ timeoutMs: 10_000, maxInFlight: 2 });
    let running = 0;
    let peak = 0;
    const gates = Array.from({ length: 5 }, () => gate<void>());
    const runs = gates.map((g) =>
      d.run('op', async () => {
        running++;
        peak = Math.max(peak, running);
        await g.promise;
        running--;
      }),
    );
    await tick();
    expect(running).toBe(2);
    for (const g of gates) {
      g.open();
      await tick();
    }
    await Promise.all(runs);
    expect(peak).toBe(2);
  });

  test('a failing operation fails alone; the next one runs', async () => {
    const d = new GpuDispatcher({ timeoutMs: 10_000, isSticky: isStickyCudaError });
    const first = d.run('bad', () => Promise.reject(new NativeError('ERR_CUDA', 'launch failed')));
    const second = d.run('good', async () => 'fine');
    await expect(first).rejects.toMatchObject({ code: 'ERR_CUDA' });
    await expect(second).resolves.toBe('fine');
    expect(d.disabled).toBe(false);
  });

  test('a timed-out operation is rejected; the device is avoided until it returns, then used again', async () => {
    const timeouts: string[] = [];
    const d = new GpuDispatcher({ timeoutMs: 30, onTimeout: (label) => timeouts.push(label) });
    const slow = gate<string>();
    const hung = d.run('slow', () => slow.promise);
    const queued = d.run('queued', async () => 'never');
    await expect(hung).rejects.toBeInstanceOf(GpuTimeoutError);
    await expect(queued).rejects.toMatchObject({ code: 'ERR_GPU_BUSY' });
    await expect(d.run('meanwhile', async () => 'x')).rejects.toBeInstanceOf(GpuUnavailableError);
    expect(timeouts).toEqual(['slow']);
    slow.open('late');
    await tick();
    await expect(d.run('after', async () => 'back')).resolves.toBe('back');
    expect(d.disabled).toBe(false);
  });

  test('a sticky error disables the device once and refuses everything queued and later', async () => {
    const messages: string[] = [];
    const d = new GpuDispatcher({
      timeoutMs: 10_000,
      isSticky: isStickyCudaError,
      onDisabled: (reason) => messages.push(reason),
    });
    const first = d.run('crash', () => Promise.reject(sticky()));
    const queued = [d.run('a', async () => 1), d.run('b', async () => 2)];
    await expect(first).rejects.toMatchObject({ code: 'ERR_CUDA_STICKY' });
    for (const q of queued) await expect(q).rejects.toMatchObject({ code: 'ERR_GPU_DISABLED' });
    await expect(d.run('later', async () => 3)).rejects.toMatchObject({ code: 'ERR_GPU_DISABLED' });
    d.disable('again');
    expect(messages).toEqual([
      'sticky CUDA error: cudaErrorIllegalAddress: an illegal memory access',
    ]);
    expect(d.disabled).toBe(true);
  });

  test('an operation that throws synchronously is a failed operation, not a crash', async () => {
    const d = new GpuDispatcher({ timeoutMs: 10_000 });
    await expect(
      d.run('throws', () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await expect(d.run('next', async () => 'ok')).resolves.toBe('ok');
  });

  test('close waits for the operation in flight and refuses new ones; twice gives the same promise', async () => {
    const d = new GpuDispatcher({ timeoutMs: 10_000 });
    const g = gate<string>();
    const running = d.run('op', () => g.promise);
    const closed = d.close();
    expect(d.close()).toBe(closed);
    await expect(d.run('late', async () => 'x')).rejects.toMatchObject({ code: 'ERR_GPU_CLOSED' });
    let done = false;
    void closed.then(() => (done = true));
    await tick();
    expect(done).toBe(false);
    g.open('finished');
    await expect(running).resolves.toBe('finished');
    await closed;
    expect(done).toBe(true);
  });
});

function image(width: number, height: number): RawImage {
  const data = Buffer.alloc(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 13) % 256;
  return { data, width, height, channels: 3 };
}

const FAKE_DEVICE: CudaDevice = {
  index: 0,
  name: 'Fake GPU',
  computeCapability: '8.9',
  totalMemory: 24 * 1024 ** 3,
  multiprocessors: 58,
  memoryClockKHz: 10_501_000,
  memoryBusWidthBits: 192,
};

class FakeEngine implements GpuEngine {
  calls = 0;
  released = 0;
  constructor(
    private readonly behave: (call: number) => Promise<ResampleResult>,
    private readonly answer: () => Promise<CudaDevice> = async () => FAKE_DEVICE,
  ) {}
  probe(): Promise<CudaDevice> {
    return this.answer();
  }
  resample(_source: RawImage, _request: ResampleRequest): Promise<ResampleResult> {
    return this.behave(++this.calls);
  }
  async release(): Promise<void> {
    this.released++;
  }
}

describe('CudaBackend', () => {
  const request: ResampleRequest = {
    thumb: { width: 8, height: 6 },
    lq: { width: 16, height: 12 },
  };
  const gpuPixels = (): ResampleResult => ({ thumb: image(8, 6), lq: image(16, 12) });

  function backend(engine: GpuEngine, timeoutMs = 10_000) {
    const lines: string[] = [];
    const b = new CudaBackend({
      engine,
      fallback: new CpuBackend(),
      timeoutMs,
      log: (line) => lines.push(line),
    });
    return { b, lines };
  }

  test('the probe goes through the dispatcher and names the device', async () => {
    const { b } = backend(new FakeEngine(async () => gpuPixels()));
    expect(b.description).toBe('cuda (device not probed yet)');
    const running = b.probe();
    expect(b.dispatcher.idle).toBe(false);
    expect(await running).toBe(FAKE_DEVICE);
    expect(b.description).toBe('Fake GPU (GPU 0, compute 8.9, 24.0 GiB)');
  });

  test('a probe that hangs fails at the GPU time limit, without the per-image line', async () => {
    const hung = gate<CudaDevice>();
    const engine = new FakeEngine(
      async () => gpuPixels(),
      () => hung.promise,
    );
    const { b, lines } = backend(engine, 30);
    await expect(b.probe()).rejects.toThrow(
      new GpuTimeoutError('GPU operation probe took longer than 30 ms'),
    );
    expect(lines).toEqual([]);
    expect(b.dispatcher.idle).toBe(false);
    hung.open(FAKE_DEVICE);
    await tick();
    expect(b.dispatcher.idle).toBe(true);
  });

  test('declares the cuda name and the full-unless-cheap-shrink decode policy', () => {
    const { b } = backend(new FakeEngine(async () => gpuPixels()));
    expect(b.name).toBe('cuda');
    expect(b.decodePolicy).toBe('full-unless-cheap-shrink');
  });

  test('returns the device result and says it ran on cuda', async () => {
    const { b } = backend(new FakeEngine(async () => gpuPixels()));
    const r = await b.resample(image(32, 24), request);
    expect(r.backend).toBe('cuda');
    expect(r.thumb).toMatchObject({ width: 8, height: 6 });
  });

  test('a failed GPU operation re-routes that image to the CPU with one line', async () => {
    const engine = new FakeEngine(async (call) => {
      if (call === 1)
        throw new NativeError('ERR_CUDA_OOM', 'cudaErrorMemoryAllocation: out of memory');
      return gpuPixels();
    });
    const { b, lines } = backend(engine);
    const first = await b.resample(image(32, 24), request);
    expect(first.backend).toBe('cpu');
    expect(first.thumb).toMatchObject({ width: 8, height: 6, channels: 3 });
    expect(first.lq).toMatchObject({ width: 16, height: 12, channels: 3 });
    expect(lines).toEqual([
      'GPU operation failed for a 32x24 image (cudaErrorMemoryAllocation: out of memory); resampling it on the CPU',
    ]);
    const second = await b.resample(image(32, 24), request);
    expect(second.backend).toBe('cuda');
  });

  test('a sticky error moves the rest of the run to the CPU with ONE message', async () => {
    const engine = new FakeEngine(async () => {
      throw sticky();
    });
    const { b, lines } = backend(engine);
    const results = await Promise.all([1, 2, 3, 4].map(() => b.resample(image(32, 24), request)));
    expect(results.map((r) => r.backend)).toEqual(['cpu', 'cpu', 'cpu', 'cpu']);
    expect(await b.resample(image(32, 24), request)).toMatchObject({ backend: 'cpu' });
    expect(engine.calls).toBe(1);
    expect(lines).toEqual([
      'GPU disabled for the rest of this run (sticky CUDA error: cudaErrorIllegalAddress: an illegal memory access); continuing on the CPU',
    ]);
    await b.close();
    expect(engine.released).toBe(0);
  });

  test('a GPU operation past the time limit: that image goes to the CPU, the run goes on', async () => {
    const slow = gate<ResampleResult>();
    const engine = new FakeEngine((call) =>
      call === 1 ? slow.promise : Promise.resolve(gpuPixels()),
    );
    const { b, lines } = backend(engine, 30);
    const r = await b.resample(image(32, 24), request);
    expect(r.backend).toBe('cpu');
    expect(lines).toEqual([
      'a GPU operation ran past 0.03 s; images go to the CPU until the GPU answers again',
    ]);
    slow.open(gpuPixels());
    await tick();
    expect((await b.resample(image(32, 24), request)).backend).toBe('cuda');
    await b.close();
    expect(engine.released).toBe(1);
  });
});
