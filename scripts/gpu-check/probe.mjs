// What the GPU check finds on a machine: the NVIDIA GPU (from nvidia-smi) and nvJPEG's libraries.
// Pure parsing and folder scanning, so CI can test them over canned text and fake folders.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';

export const NVIDIA_SMI_QUERY = [
  '--query-gpu=name,memory.total,driver_version,compute_cap',
  '--format=csv,noheader,nounits',
];

/**
 * The first GPU in `nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap` CSV, or
 * undefined when the text lists none.
 */
export function parseNvidiaSmi(text) {
  const line = text
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.length > 0);
  if (!line) return undefined;
  const [name, memoryMiB, driver, computeCap] = line.split(',').map((f) => f.trim());
  if (!name || !/^\d+\.\d+$/.test(computeCap ?? '')) return undefined;
  return { name, memoryMiB: Number(memoryMiB), driver, computeCap };
}

/** The CMake CUDA architecture that builds for exactly this card: "9.0" -> "90-real". */
export function cudaArchitecture(computeCap) {
  return `${computeCap.replace('.', '')}-real`;
}

/**
 * The GPU nvidia-smi reports, or why there is none.
 * @param {(file: string, args: string[], options: object) => string | Buffer} [run]
 */
export function findGpu(run = execFileSync) {
  let text;
  try {
    text = run('nvidia-smi', NVIDIA_SMI_QUERY, { encoding: 'utf8', timeout: 20_000 });
  } catch (err) {
    const why = err.code === 'ENOENT' ? 'nvidia-smi not found' : 'nvidia-smi failed';
    return { gpu: undefined, reason: why };
  }
  const gpu = parseNvidiaSmi(String(text));
  return gpu ? { gpu } : { gpu: undefined, reason: 'nvidia-smi lists no GPU' };
}

const NVJPEG = /^libnvjpeg\.so(\.\d+)*$/;

/**
 * Paths of libnvjpeg in `ldconfig -p` output.
 * @param {string} text
 * @returns {string[]}
 */
export function nvjpegFromLdconfig(text) {
  /** @type {string[]} */
  const found = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(libnvjpeg\.so\S*)\s.*=>\s*(\S+)\s*$/.exec(line);
    if (m) found.push(m[2]);
  }
  return found;
}

/**
 * Folders where nvJPEG lives outside the linker cache: the CUDA toolkit's, and the `lib` folders
 * of the NVIDIA Python wheels (nvidia/<package>/lib) under each site-packages folder.
 * @param {{ cudaHome?: string, sitePackages?: string[] }} where
 * @returns {string[]}
 */
export function nvjpegFolders({ cudaHome, sitePackages = [] }) {
  const homes = [cudaHome, '/usr/local/cuda'].filter(Boolean);
  const folders = homes.flatMap((h) => [
    path.join(h, 'lib64'),
    path.join(h, 'targets', 'x86_64-linux', 'lib'),
  ]);
  for (const site of sitePackages) {
    /** @type {string[]} */
    let packages = [];
    try {
      packages = readdirSync(path.join(site, 'nvidia'));
    } catch {
      continue;
    }
    for (const p of packages.sort()) folders.push(path.join(site, 'nvidia', p, 'lib'));
  }
  return [...new Set(folders)];
}

/**
 * Every libnvjpeg.so* file in `folders`, sorted; folders that do not exist are passed over.
 * @param {string[]} folders
 * @returns {string[]}
 */
export function nvjpegInFolders(folders) {
  /** @type {string[]} */
  const found = [];
  for (const folder of folders) {
    /** @type {string[]} */
    let names = [];
    try {
      names = readdirSync(folder);
    } catch {
      continue;
    }
    for (const name of names.sort()) if (NVJPEG.test(name)) found.push(path.join(folder, name));
  }
  return found;
}

/**
 * nvJPEG on this machine: the linker cache, the CUDA toolkit and Python packages' folders.
 * @param {{ ldconfigText?: string, cudaHome?: string, sitePackages?: string[] }} [where]
 * @returns {string[]}
 */
export function findNvjpeg({ ldconfigText = '', cudaHome, sitePackages = [] } = {}) {
  const paths = [
    ...nvjpegFromLdconfig(ldconfigText),
    ...nvjpegInFolders(nvjpegFolders({ cudaHome, sitePackages })),
  ];
  return [...new Set(paths)];
}
