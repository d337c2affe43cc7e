import type { BackendChoice } from '../config/options.js';
import type { Backend } from './backend.js';
import { CpuBackend } from './cpu.js';

export interface SelectBackendOptions {
  backend: BackendChoice;
  gpu: number;
  gpuTimeoutMs: number;
  /** Receives the one line that says which backend runs and why. */
  log: (line: string) => void;
}

export async function selectBackend(opts: SelectBackendOptions): Promise<Backend> {
  const backend = new CpuBackend();
  opts.log(
    `backend: cpu (${opts.backend === 'cpu' ? 'asked for' : 'no GPU backend in this build'})`,
  );
  return backend;
}
