import { execFile } from 'node:child_process';
import { freemem, hostname, loadavg, totalmem } from 'node:os';
import type { WorkerBackendInfo, WorkerCounts } from './types.js';

export interface HeartbeatInput {
  id: string;
  token: string;
  queue: string;
  backend: WorkerBackendInfo;
  concurrency: number;
  startedAt: number;
  counts: WorkerCounts;
  current: string[];
  extra?: () => Promise<Record<string, unknown>>;
}

let lastCpu = { usage: process.cpuUsage(), at: performance.now() };

/** This process's CPU use since the previous heartbeat, in percent of one core. */
function cpuPercent(): number {
  const usage = process.cpuUsage();
  const at = performance.now();
  const us = usage.user - lastCpu.usage.user + (usage.system - lastCpu.usage.system);
  const wallUs = (at - lastCpu.at) * 1000;
  lastCpu = { usage, at };
  return wallUs > 0 ? Math.round((us / wallUs) * 1000) / 10 : 0;
}

/** The heartbeat value: who this worker is, what it does and how loaded its machine is. */
export async function collectHeartbeat(h: HeartbeatInput): Promise<string> {
  const mem = process.memoryUsage();
  const extra = h.extra ? await h.extra().catch(() => ({})) : {};
  return JSON.stringify({
    id: h.id,
    host: hostname(),
    pid: process.pid,
    queue: h.queue,
    backend: h.backend.name,
    backendDescription: h.backend.description,
    gpu: h.backend.gpuName ?? null,
    concurrency: h.concurrency,
    jobsDone: h.counts.jobsDone,
    jobsFailed: h.counts.jobsFailed,
    jobsRetried: h.counts.jobsRetried,
    current: h.current,
    cpuPercent: cpuPercent(),
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    memory: {
      rss: mem.rss,
      heapUsed: mem.heapUsed,
      systemFree: freemem(),
      systemTotal: totalmem(),
    },
    ...extra,
    startedAt: new Date(h.startedAt).toISOString(),
    uptimeS: Math.round((Date.now() - h.startedAt) / 1000),
    at: new Date().toISOString(),
    token: h.token,
  });
}

/**
 * GPU utilisation and memory from nvidia-smi, when the daemon runs on a GPU; nothing (not an
 * error) where nvidia-smi is missing or slow.
 */
export function nvidiaSmiStats(gpuIndex: number): () => Promise<Record<string, unknown>> {
  return () =>
    new Promise((resolve) => {
      execFile(
        'nvidia-smi',
        [
          `--id=${gpuIndex}`,
          '--query-gpu=utilization.gpu,memory.used,memory.total',
          '--format=csv,noheader,nounits',
        ],
        { timeout: 2000 },
        (err, stdout) => {
          if (err) return resolve({});
          const [util, used, total] = stdout
            .trim()
            .split(',')
            .map((s) => Number(s.trim()));
          resolve({
            gpuUtilPercent: util,
            gpuMemory: { usedMiB: used, totalMiB: total },
          });
        },
      );
    });
}
