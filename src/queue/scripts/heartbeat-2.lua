-- heartbeat: refreshes this daemon's heartbeat, or claims its id again if the key lapsed.
-- KEYS[1] heartbeat key   KEYS[2] workers set
-- ARGV[1] heartbeat JSON   ARGV[2] TTL in ms   ARGV[3] worker id   ARGV[4] this daemon's token
-- Returns 1 when written, 0 when another daemon holds the id now.
local cur = redis.call('GET', KEYS[1])
if cur and not string.find(cur, ARGV[4], 1, true) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', tonumber(ARGV[2]))
redis.call('SADD', KEYS[2], ARGV[3])
return 1
