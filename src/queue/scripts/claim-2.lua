-- claim: takes a worker id if no live daemon holds it, and registers it.
-- KEYS[1] heartbeat key of the id   KEYS[2] workers set
-- ARGV[1] heartbeat JSON (holds this daemon's token)   ARGV[2] TTL in ms   ARGV[3] worker id
-- Returns 1 when claimed, 0 when the id is taken.
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', tonumber(ARGV[2])) then return 0 end
redis.call('SADD', KEYS[2], ARGV[3])
return 1
