-- KEYS[1] route key; ARGV[1] the route value the caller owns.
-- Deletes only if the route is still the caller's: a newer connection's route survives.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
