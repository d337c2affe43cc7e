import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/**
 * The Lua scripts, one file each (`scripts/<name>-<numKeys>.lua`), read from the source tree so
 * the same files serve `src/` under test and `dist/` when installed. ioredis sends EVALSHA and
 * falls back to EVAL when the server lost its script cache (a restart): one round trip a call.
 */
const SCRIPT_FILES = {
  fetch: 'fetch-3.lua',
  complete: 'complete-5.lua',
  fail: 'fail-5.lua',
  promote: 'promote-2.lua',
  reap: 'reap-7.lua',
  handback: 'handback-2.lua',
  claim: 'claim-2.lua',
  heartbeat: 'heartbeat-2.lua',
  release: 'release-3.lua',
  retryFailed: 'retry-failed-3.lua',
} as const;

export type ScriptName = keyof typeof SCRIPT_FILES;

type ScriptArg = string | number | Buffer;

/** Runs a script; with `buffers` the reply's strings come back as Buffers (raw jobs, byte-exact). */
export type RunScript = <T>(
  name: ScriptName,
  keys: string[],
  args?: ScriptArg[],
  buffers?: boolean,
) => Promise<T>;

let sources: Map<ScriptName, { lua: string; numberOfKeys: number }> | undefined;

function loadSources() {
  if (sources) return sources;
  sources = new Map();
  for (const [name, file] of Object.entries(SCRIPT_FILES) as [ScriptName, string][]) {
    const url = new URL(`../../src/queue/scripts/${file}`, import.meta.url);
    const numberOfKeys = Number(/-(\d+)\.lua$/.exec(file)![1]);
    sources.set(name, { lua: readFileSync(url, 'utf8'), numberOfKeys });
  }
  return sources;
}

/** Runs a named script on a connection; the key count comes from the file name. */
export function defineScripts(redis: Redis): RunScript {
  const all = loadSources();
  for (const [name, { lua, numberOfKeys }] of all) {
    redis.defineCommand(`imgproc_${name}`, { lua, numberOfKeys });
  }
  return <T>(name: ScriptName, keys: string[], args: ScriptArg[] = [], buffers = false) => {
    const expected = all.get(name)!.numberOfKeys;
    if (keys.length !== expected) {
      throw new Error(`script ${name} takes ${expected} keys, got ${keys.length}`);
    }
    const fn = (redis as unknown as Record<string, (...a: ScriptArg[]) => Promise<T>>)[
      `imgproc_${name}${buffers ? 'Buffer' : ''}`
    ]!;
    return fn.call(redis, ...keys, ...args);
  };
}
