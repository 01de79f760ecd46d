-- Renews a node id lease this holder still has, and raises the id's high-water mark to now + ttl.
-- KEYS: 1 lease, 2 high-water mark. ARGV: 1 "<logicId>|<token>", 2 ttl ms, 3 now ms.
-- Returns 1 renewed | 0 no longer held (expired or taken): the holder must stop issuing ids.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local hw = tonumber(redis.call('GET', KEYS[2]) or '0')
local until_ms = tonumber(ARGV[3]) + tonumber(ARGV[2])
if until_ms > hw then
  redis.call('SET', KEYS[2], string.format('%.0f', until_ms))
end
return 1
