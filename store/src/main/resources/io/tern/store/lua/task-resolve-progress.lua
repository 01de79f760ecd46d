-- Renews a resolution's lease and, when given, saves how far it got: the source tags in order
-- (set once), the source index and SSCAN cursor to continue from, and jobs published meanwhile.
-- Saved only after the jobs before the cursor are on Kafka: a resumed resolution re-publishes at
-- most the page in flight, whose jobs are skipped by their ids (task-job-done.lua).
-- KEYS: 1 task hash, 2 resolving index. ARGV: 1 taskId, 2 owner, 3 lease end ms,
--       then optionally 4 sources (comma-separated), 5 source index, 6 cursor, 7 jobs published.
-- Returns 1 renewed | 0 lease lost to another node | -1 no longer resolving (recalled, expired): stop.
local t = redis.call('HMGET', KEYS[1], 'state', 'owner')
if t[1] ~= 'resolving' then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return -1
end
if t[2] ~= ARGV[2] then
  return 0
end
if ARGV[4] then
  redis.call('HSETNX', KEYS[1], 'rsources', ARGV[4])
  redis.call('HSET', KEYS[1], 'rsrc', ARGV[5], 'rcur', ARGV[6])
  redis.call('HINCRBY', KEYS[1], 'rjobs', ARGV[7])
end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
