-- dead-letter: the one builder of a dead-letter record, prepended to the scripts that fail jobs.
-- dead_letter(failed list, raw job, error, code, permanent '1'|'0', attempts, worker id)
-- The record's id is the job's own "id" field, absent when the job carries none or does not parse.
local function dead_letter(failed, raw, err, code, permanent, attempts, worker)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local ok, decoded = pcall(cjson.decode, raw)
  local id = nil
  if ok and type(decoded) == 'table' and (type(decoded.id) == 'string' or type(decoded.id) == 'number') then
    id = tostring(decoded.id)
  end
  redis.call('LPUSH', failed, cjson.encode({
    id = id, job = raw, error = err, code = code, permanent = permanent == '1',
    attempts = tonumber(attempts), worker = worker, failedAt = now }))
end
