-- complete: records a job's result and drops it from the processing list, atomically.
-- KEYS[1] this worker's processing list   KEYS[2] jobs list   KEYS[3] done list
-- KEYS[4] attempts hash   KEYS[5] recoveries hash
-- ARGV[1] raw job   ARGV[2] result JSON   ARGV[3] done list cap (0 = no cap)
-- Returns 1 when the result was recorded; 0 when the job had been handed to another worker
-- meanwhile (its heartbeat lapsed), which then records it: a job id lands in done once.
local held = redis.call('LREM', KEYS[1], 1, ARGV[1])
if held == 0 then
  -- Handed back but not taken again yet: take it off the queue instead of running it twice.
  held = redis.call('LREM', KEYS[2], -1, ARGV[1])
end
if held == 0 then return 0 end
local h = redis.sha1hex(ARGV[1])
redis.call('HDEL', KEYS[4], h)
redis.call('HDEL', KEYS[5], h)
redis.call('LPUSH', KEYS[3], ARGV[2])
local cap = tonumber(ARGV[3])
if cap > 0 then redis.call('LTRIM', KEYS[3], 0, cap - 1) end
return 1
