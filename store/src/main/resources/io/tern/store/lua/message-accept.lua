-- Records a new single-push message and queues it for its device, atomically, so nothing
-- accepted depends on a later step succeeding. Honours the app's requestId (idempotency) and
-- returns the device's route in the same round trip.
-- A message to a routed device is also put up for a delivery check (KEYS[6], scored by when it is due),
-- taken off when it is marked sent (message-advance.lua): if the node that accepted it dies before the
-- PUSH, or the PUSH fails, a redelivery sweeper finds it there (redelivery-claim.lua).
-- KEYS: 1 idempotency key, 2 message hash, 3 device queue, 4 route, 5 device (known) key,
--       6 redelivery due zset
-- ARGV: 1 msgId, 2 appId, 3 regId, 4 kind, 5 payload, 6 createdAt, 7 expiresAt,
--       8 retentionMs, 9 queueMax, 10 queueTtlMs, 11 idempotencyTtlMs, 12 requestId ('' = none),
--       13 callback URL ('' = none), 14 callback param, 15 check due at ms ('0' = no check),
--       16 most due checks (beyond it the message waits for its device's reconnect, as without checks)
-- Returns {created 0|1, msgId, route or false}, or {-1} when the device never connected.
-- A device without a route is offline: its message is recorded as such, with no second call.
-- A message recorded 'queued' (message-queue.lua) under this msgId is promoted: recorded as here and queued
-- for its device (created 1, once); any other existing message under it is a repeat (created 0), which is
-- what makes draining one buffer record twice deliver it once.
if ARGV[12] ~= '' then
  local existing = redis.call('GET', KEYS[1])
  if existing and existing ~= ARGV[1] then
    return {0, existing, redis.call('GET', KEYS[4])}
  end
end
local prior = redis.call('HGET', KEYS[2], 'status')
if prior and prior ~= 'queued' then
  return {0, ARGV[1], redis.call('GET', KEYS[4])}
end
if redis.call('EXISTS', KEYS[5]) == 0 then
  return {-1}
end
local route = redis.call('GET', KEYS[4])
redis.call('HSET', KEYS[2], 'app', ARGV[2], 'reg', ARGV[3], 'kind', ARGV[4], 'payload', ARGV[5],
  'created', ARGV[6], 'expires', ARGV[7], 'status', route and 'accepted' or 'offline', 'req', ARGV[12])
if ARGV[13] ~= '' then
  redis.call('HSET', KEYS[2], 'cbUrl', ARGV[13], 'cbParam', ARGV[14])
end
redis.call('PEXPIREAT', KEYS[2], tonumber(ARGV[7]) + tonumber(ARGV[8]))
redis.call('ZADD', KEYS[3], ARGV[6], ARGV[1])
local size = redis.call('ZCARD', KEYS[3])
local max = tonumber(ARGV[9])
if size > max then
  -- A full queue drops its oldest entries; their status says so (expired, evicted) rather than vanish.
  local evicted = redis.call('ZPOPMIN', KEYS[3], size - max)
  for i = 1, #evicted, 2 do
    local key = 'tern:msg:' .. evicted[i]
    local status = redis.call('HGET', key, 'status')
    if status then
      if status ~= 'delivered' then
        redis.call('HSET', key, 'status', 'expired', 'evicted', '1')
      end
    elseif redis.call('EXISTS', 'tern:task:' .. evicted[i]) == 1 then
      redis.call('HINCRBY', 'tern:task:' .. evicted[i], 'n:expired', 1)
    end
  end
end
redis.call('PEXPIRE', KEYS[3], ARGV[10])
if route and ARGV[15] ~= '0' and redis.call('ZCARD', KEYS[6]) < tonumber(ARGV[16]) then
  redis.call('ZADD', KEYS[6], ARGV[15], ARGV[1])
end
if ARGV[12] ~= '' then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[11])
end
return {1, ARGV[1], route}
