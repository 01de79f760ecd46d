-- KEYS[1] a key one owner holds (a device route, a lease); ARGV[1] the value the caller owns.
-- Deletes only if the value is still the caller's: a newer connection's route, a successor's lease survives.
-- Returns 1 deleted | 0 not the caller's (or gone).
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
