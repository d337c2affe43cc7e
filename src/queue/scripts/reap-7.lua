-- reap: hands back the jobs held by a worker whose heartbeat has expired (it died, or lost Redis
-- for longer than the heartbeat TTL). Each job's recovery count goes up; at the cap the job is
-- dead-lettered, since it keeps killing the workers that run it.
-- KEYS[1] the dead worker's processing list   KEYS[2] its heartbeat key   KEYS[3] jobs list
-- KEYS[4] failed list   KEYS[5] attempts hash   KEYS[6] recoveries hash   KEYS[7] workers set
-- ARGV[1] crash cap   ARGV[2] the dead worker's id
-- ARGV[3] '1' to skip the heartbeat check (a daemon taking over its own id's leftovers)
-- Returns {requeued, dead-lettered, {requeued raw jobs}, {dead-lettered raw jobs}}, or false when
-- the worker is alive.
if ARGV[3] ~= '1' and redis.call('EXISTS', KEYS[2]) == 1 then return false end
local cap = tonumber(ARGV[1])
local requeued, dead = 0, 0
local requeuedJobs, deadJobs = {}, {}
while true do
  -- Newest first onto the taking end, so that the oldest is taken again first.
  local raw = redis.call('LPOP', KEYS[1])
  if not raw then break end
  local h = redis.sha1hex(raw)
  local n = redis.call('HINCRBY', KEYS[6], h, 1)
  if n >= cap then
    local attempts = (tonumber(redis.call('HGET', KEYS[5], h)) or 0) + n
    redis.call('HDEL', KEYS[5], h)
    redis.call('HDEL', KEYS[6], h)
    dead_letter(KEYS[4], raw, 'job crashed its worker ' .. n .. ' times', 'CRASHED', '0',
      attempts, ARGV[2])
    dead = dead + 1
    deadJobs[dead] = raw
  else
    -- To the taking end: it had already waited its turn.
    redis.call('RPUSH', KEYS[3], raw)
    requeued = requeued + 1
    requeuedJobs[requeued] = raw
  end
end
if ARGV[3] ~= '1' then redis.call('SREM', KEYS[7], ARGV[2]) end
return {requeued, dead, requeuedJobs, deadJobs}
