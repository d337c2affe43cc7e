-- fetch: moves the oldest pending job to this worker's processing list, atomically.
-- KEYS[1] jobs list   KEYS[2] this worker's processing list   KEYS[3] attempts hash
-- KEYS[4] recoveries hash
-- ARGV    none
-- Returns {raw job, failed attempts so far, times its workers died running it}, or false when
-- no job is pending.
local raw = redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT')
if not raw then return false end
local h = redis.sha1hex(raw)
local failures = redis.call('HGET', KEYS[3], h)
local crashes = redis.call('HGET', KEYS[4], h)
return {raw, tonumber(failures) or 0, tonumber(crashes) or 0}
