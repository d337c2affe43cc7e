-- promote: moves retries whose backoff has passed back to the pending queue (Redis clock).
-- KEYS[1] retry sorted set   KEYS[2] jobs list
-- ARGV[1] most jobs to move in one call
-- Returns the number of jobs moved.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, raw in ipairs(due) do
  redis.call('ZREM', KEYS[1], raw)
  redis.call('LPUSH', KEYS[2], raw)
end
return #due
