-- Leases a logic node id (msgId node bits). Free: taken. Held by a node with the same logic id
-- and ARGV[5] = 1 (its restart after a crash): taken over. Otherwise refused, with its holder.
-- A running node that lost its lease re-acquires with ARGV[5] = 0, so two processes wrongly
-- sharing a logic id never take the id from each other back and forth.
-- Also raises the id's high-water mark to now + ttl: the latest millisecond the holder may put
-- into a msgId before its lease runs out. A new holder starts above the old mark, so a restart
-- in the same millisecond, or a holder whose clock is ahead, never repeats an id.
-- KEYS: 1 lease (string "<logicId>|<token>", PX ttl), 2 high-water mark (string ms, no TTL).
-- ARGV: 1 logicId, 2 token, 3 ttl ms, 4 now ms, 5 take over from the same logic id (1|0).
-- Returns {1, previous high-water ms} taken | {0, holder} leased by another logic node.
local cur = redis.call('GET', KEYS[1])
local mine = ARGV[1] .. '|' .. ARGV[2]
if cur and cur ~= mine and (ARGV[5] ~= '1' or string.match(cur, '^(.*)|') ~= ARGV[1]) then
  return {0, cur}
end
redis.call('SET', KEYS[1], mine, 'PX', ARGV[3])
local hw = tonumber(redis.call('GET', KEYS[2]) or '0')
local until_ms = tonumber(ARGV[4]) + tonumber(ARGV[3])
if until_ms > hw then
  redis.call('SET', KEYS[2], string.format('%.0f', until_ms))
end
return {1, string.format('%.0f', hw)}
