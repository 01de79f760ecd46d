-- Records one broker's answer to a broadcast fan-out and adds its copies to the task's counters, once per
-- broker: a fan-out finished by another node after a crash, or a broker answered twice, counts nothing again.
-- KEYS: 1 task hash. ARGV: 1 broker id, 2 copies written, 3 targeted field, 4 sent field.
-- Returns 1 counted | 0 already counted or task gone.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
if redis.call('HSETNX', KEYS[1], 'fo:' .. ARGV[1], ARGV[2]) == 0 then
  return 0
end
redis.call('HINCRBY', KEYS[1], ARGV[3], ARGV[2])
redis.call('HINCRBY', KEYS[1], ARGV[4], ARGV[2])
return 1
