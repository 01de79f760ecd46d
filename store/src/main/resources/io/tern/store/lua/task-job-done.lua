-- Marks a tag-push job as fanned out, so a job re-published by a resumed resolution (or replayed
-- by Kafka) is skipped: devices that already acked are not sent or counted again. The set lives
-- as long as the task hash.
-- KEYS: 1 task's done-jobs set, 2 task hash. ARGV: 1 job id.
redis.call('SADD', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[2])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return 1
