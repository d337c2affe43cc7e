-- status-if-held: replaces a job's status only while it still says what the caller last knew
-- (that the given worker runs it, or that it failed), so that a job taken back from a dead or
-- stopping worker, or moved back from the dead letters, never overwrites what its next worker
-- has written meanwhile. The new status keeps the old one's attempts.
-- KEYS[1] the job's status key
-- ARGV[1] the worker id that held the job ('' for any)   ARGV[2] new status JSON
-- ARGV[3] status TTL in ms   ARGV[4] '1' when the worker died running the job: its crash count
-- goes up   ARGV[5] the state the status must be in ('processing' when absent)
-- Returns 1 when written, 0 when the status has moved on (or is gone).
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
local ok, status = pcall(cjson.decode, cur)
local state = ARGV[5] or 'processing'
if not ok or type(status) ~= 'table' or status.state ~= state or
    (ARGV[1] ~= '' and status.worker ~= ARGV[1]) then
  return 0
end
local new = cjson.decode(ARGV[2])
new.attempts = status.attempts
if ARGV[4] == '1' then new.crashes = (tonumber(status.crashes) or 0) + 1 end
redis.call('SET', KEYS[1], cjson.encode(new), 'PX', tonumber(ARGV[3]))
return 1
