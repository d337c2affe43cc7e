-- fail: a job failed; either park it in the retry set for its backoff or dead-letter it.
-- KEYS[1] the processing list that holds the job   KEYS[2] retry sorted set   KEYS[3] failed list
-- KEYS[4] attempts hash   KEYS[5] recoveries hash
-- ARGV[1] raw job   ARGV[2] 'retry' or 'dead'   ARGV[3] backoff in ms (retry)
-- ARGV[4] error message   ARGV[5] error code   ARGV[6] '1' when permanent   ARGV[7] attempts
-- ARGV[8] worker id (ARGV[4..8] for 'dead' only)
-- Returns 1 when moved; 0 when the job was no longer held by this worker.
local held = redis.call('LREM', KEYS[1], 1, ARGV[1])
if held == 0 then return 0 end
local h = redis.sha1hex(ARGV[1])
if ARGV[2] == 'retry' then
  redis.call('HINCRBY', KEYS[4], h, 1)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
else
  redis.call('HDEL', KEYS[4], h)
  redis.call('HDEL', KEYS[5], h)
  dead_letter(KEYS[3], ARGV[1], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8])
end
return 1
