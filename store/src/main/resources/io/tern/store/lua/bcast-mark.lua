-- Step 1 of BroadcastLog.append: refuses an unknown task, else records when it was broadcast (catch-up by
-- time compares with this, not with its creation). Written before the log entry, so a crash in between
-- leaves only a harmless bcastAt; bcastSeq follows the log entry (step 3).
-- KEYS: 1 task hash. ARGV: 1 now ms. Returns 1, or -1 when the task does not exist.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return -1
end
redis.call('HSET', KEYS[1], 'bcastAt', ARGV[1])
return 1
