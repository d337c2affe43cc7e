-- handback: returns jobs this worker holds but will not finish (shutdown, or jobs it lost track
-- of across a Redis reconnect) to the taking end of the queue, without counting a failure.
-- KEYS[1] this worker's processing list   KEYS[2] jobs list
-- ARGV    the raw jobs to hand back; none means every job in the processing list
-- Returns the number of jobs handed back.
local n = 0
if #ARGV == 0 then
  -- Newest first onto the taking end, so that the oldest is taken again first.
  while redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT') do n = n + 1 end
  return n
end
for _, raw in ipairs(ARGV) do
  if redis.call('LREM', KEYS[1], 1, raw) == 1 then
    redis.call('RPUSH', KEYS[2], raw)
    n = n + 1
  end
end
return n
