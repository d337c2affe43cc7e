-- release: gives up a worker id on shutdown, if this daemon still holds it and holds no jobs.
-- KEYS[1] heartbeat key   KEYS[2] workers set   KEYS[3] this worker's processing list
-- ARGV[1] worker id   ARGV[2] this daemon's token
-- Returns 1 when released.
local cur = redis.call('GET', KEYS[1])
if cur and not string.find(cur, ARGV[2], 1, true) then return 0 end
redis.call('DEL', KEYS[1])
if redis.call('LLEN', KEYS[3]) == 0 then redis.call('SREM', KEYS[2], ARGV[1]) end
return 1
