-- retry-failed: moves dead letters back to the pending queue, oldest first, with fresh attempts.
-- KEYS[1] failed list   KEYS[2] jobs list   KEYS[3] attempts hash
-- ARGV[1] most records to move (0 = all)   ARGV[2] '1' to move permanent failures too
-- Returns {jobs moved, permanent failures left behind because not asked for, {the raw jobs moved}}. Records that stay (permanent failures unless asked, records
-- that hold no job, those past the limit) keep their order in the failed list.
local limit = tonumber(ARGV[1])
local len = redis.call('LLEN', KEYS[1])
if limit <= 0 then limit = len end
local moved, permanent = 0, 0
local movedJobs = {}
for _ = 1, len do
  local rec = redis.call('RPOP', KEYS[1])
  if not rec then break end
  local ok, decoded = pcall(cjson.decode, rec)
  local holdsJob = ok and type(decoded) == 'table' and type(decoded.job) == 'string'
  local leftAsPermanent = holdsJob and ARGV[2] ~= '1' and decoded.permanent == true
  if leftAsPermanent then permanent = permanent + 1 end
  if holdsJob and not leftAsPermanent and moved < limit then
    redis.call('HDEL', KEYS[3], redis.sha1hex(decoded.job))
    redis.call('LPUSH', KEYS[2], decoded.job)
    moved = moved + 1
    movedJobs[moved] = decoded.job
  else
    redis.call('LPUSH', KEYS[1], rec)
  end
end
return {moved, permanent, movedJobs}
