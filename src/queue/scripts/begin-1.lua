-- begin: binds a job id to its input as the job starts, and marks it processing.
-- KEYS[1] the job's status key
-- ARGV[1] the job's input   ARGV[2] status JSON (state "processing")   ARGV[3] status TTL in ms
-- Returns false when started; the other input when the id is bound to another input by a job
-- that is queued, processing, waiting for a retry or done (the id is free again once its job
-- failed).
local cur = redis.call('GET', KEYS[1])
if cur then
  local ok, status = pcall(cjson.decode, cur)
  if ok and type(status) == 'table' and status.input ~= ARGV[1] and
      (status.state == 'queued' or status.state == 'processing' or status.state == 'retrying' or
        status.state == 'done') then
    return tostring(status.input)
  end
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', tonumber(ARGV[3]))
return false
