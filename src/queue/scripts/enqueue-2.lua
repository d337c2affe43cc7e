-- enqueue: pushes a job and marks it queued, unless its id is bound to another input.
-- KEYS[1] jobs list   KEYS[2] the job's status key
-- ARGV[1] raw job   ARGV[2] the job's input   ARGV[3] status JSON (state "queued")
-- ARGV[4] status TTL in ms   ARGV[5] 'refuse' to push nothing on a conflict, 'push' to push anyway
-- (the worker then dead-letters it with ID_CONFLICT, as for any producer)
-- Returns false when queued; the other input when the id is bound to another input by a job that
-- is queued, processing, waiting for a retry or done. The status is left alone then.
local cur = redis.call('GET', KEYS[2])
if cur then
  local ok, status = pcall(cjson.decode, cur)
  if ok and type(status) == 'table' and status.input ~= ARGV[2] and
      (status.state == 'queued' or status.state == 'processing' or status.state == 'retrying' or
        status.state == 'done') then
    if ARGV[5] == 'push' then redis.call('LPUSH', KEYS[1], ARGV[1]) end
    return tostring(status.input)
  end
end
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[3], 'PX', tonumber(ARGV[4]))
return false
