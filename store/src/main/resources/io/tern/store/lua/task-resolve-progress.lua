-- Checks a resolution's lease on the task and, when given, saves how far it got: the source tags in order
-- (set once), the source index and SSCAN cursor to continue from, and jobs published meanwhile.
-- Saved only after the jobs before the cursor are on Kafka: a resumed resolution re-publishes at
-- most the page in flight, whose jobs are skipped by their ids (task-job-done.lua).
-- The caller then moves the lease end in the resolving index (another slot; 1) or drops the entry (-1): a
-- crash before that only lets a sweeper take over sooner, which the owner's next renewal reports as lost.
-- KEYS: 1 task hash. ARGV: 1 owner, then optionally 2 sources (comma-separated), 3 source index, 4 cursor,
--       5 jobs published.
-- Returns 1 renewed | 0 lease lost to another node | -1 no longer resolving (recalled, expired): stop.
local t = redis.call('HMGET', KEYS[1], 'state', 'owner')
if t[1] ~= 'resolving' then
  return -1
end
if t[2] ~= ARGV[1] then
  return 0
end
if ARGV[2] then
  redis.call('HSETNX', KEYS[1], 'rsources', ARGV[2])
  redis.call('HSET', KEYS[1], 'rsrc', ARGV[3], 'rcur', ARGV[4])
  redis.call('HINCRBY', KEYS[1], 'rjobs', ARGV[5])
end
return 1
