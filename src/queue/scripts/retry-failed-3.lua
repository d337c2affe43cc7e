-- retry-failed: moves dead letters back to the pending queue, oldest first, with fresh attempts.
-- KEYS[1] failed list   KEYS[2] jobs list   KEYS[3] attempts hash
-- ARGV[1] most records to move (0 = all)
-- Returns the number of jobs moved; records that hold no job stay in the failed list.
local limit = tonumber(ARGV[1])
local len = redis.call('LLEN', KEYS[1])
if limit <= 0 or limit > len then limit = len end
local moved = 0
for _ = 1, limit do
  local rec = redis.call('RPOP', KEYS[1])
  if not rec then break end
  local ok, decoded = pcall(cjson.decode, rec)
  if ok and type(decoded) == 'table' and type(decoded.job) == 'string' then
    redis.call('HDEL', KEYS[3], redis.sha1hex(decoded.job))
    redis.call('LPUSH', KEYS[2], decoded.job)
    moved = moved + 1
  else
    redis.call('LPUSH', KEYS[1], rec)
  end
end
return moved
