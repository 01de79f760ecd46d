-- Records a new single-push message and queues it for its device, atomically, so nothing
-- accepted depends on a later step succeeding. Honours the app's requestId (idempotency, per device) and
-- returns the device's route in the same round trip. KEYS 1-5 are the device's (one slot).
-- On one Redis (not a cluster) the same call also writes the msgId pointer (KEYS[6]) and puts a new message to a
-- routed device up for its delivery check (KEYS[7], when checks are on). On a cluster those keys are in other
-- slots: the caller sends the pointer SET and redelivery-add.lua in the same flush, and takes the check back
-- when this accept is a repeat or its device has no route.
-- Constants, defined before this by the caller (the node's settings, not sent with every call): RETENTION_MS,
-- QUEUE_MAX, QUEUE_TTL_MS, IDEMPOTENCY_TTL_MS, MAX_DUE_PER_SHARD, REF_SEP (Keys.REF_SEP's code).
-- KEYS: 1 idempotency key, 2 message hash, 3 device queue, 4 route, 5 device (known) key,
--       [6 msgId pointer, [7 delivery-check shard zset]]
-- ARGV: 1 msgId, 2 appId, 3 regId, 4 kind, 5 payload, 6 createdAt, 7 expiresAt, 8 requestId ('' = none),
--       9 callback URL ('' = none), 10 callback param, [11 delivery check due ms (with KEYS[7])]
-- Returns {created 0|1, msgId, route or false, the oldest queue entries beyond QUEUE_MAX...}, or {-1} when the
-- device never connected. The entries beyond the bound stay queued until the caller evicts them
-- (queue-evict.lua with their message keys): a crash in between leaves the queue a few over its bound, and
-- the device's next accept evicts them again.
-- A device without a route is offline: its message is recorded as such, with no second call.
-- A message recorded 'queued' (message-queue.lua) under this msgId is promoted: recorded as here and queued
-- for its device (created 1, once); any other existing message under it is a repeat (created 0), which is
-- what makes draining one buffer record twice deliver it once.
if ARGV[8] ~= '' then
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
local keepUntil = tonumber(ARGV[7]) + RETENTION_MS
redis.call('HSET', KEYS[2], 'app', ARGV[2], 'reg', ARGV[3], 'kind', ARGV[4], 'payload', ARGV[5],
  'created', ARGV[6], 'expires', ARGV[7], 'status', route and 'accepted' or 'offline', 'req', ARGV[8])
if ARGV[9] ~= '' then
  redis.call('HSET', KEYS[2], 'cbUrl', ARGV[9], 'cbParam', ARGV[10])
end
redis.call('PEXPIREAT', KEYS[2], keepUntil)
redis.call('ZADD', KEYS[3], ARGV[6], ARGV[1])
redis.call('PEXPIRE', KEYS[3], QUEUE_TTL_MS)
if ARGV[8] ~= '' then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', IDEMPOTENCY_TTL_MS)
end
if KEYS[6] then
  redis.call('SET', KEYS[6], ARGV[2] .. string.char(REF_SEP) .. ARGV[3], 'PXAT', keepUntil)
end
-- As redelivery-add.lua: not beyond the shard's bound, and never moving a check already there.
if KEYS[7] and route and redis.call('ZCARD', KEYS[7]) < MAX_DUE_PER_SHARD then
  redis.call('ZADD', KEYS[7], 'NX', ARGV[11], ARGV[1])
end
local out = {1, ARGV[1], route}
local over = redis.call('ZCARD', KEYS[3]) - QUEUE_MAX
if over > 0 then
  for _, id in ipairs(redis.call('ZRANGE', KEYS[3], 0, over - 1)) do
    out[#out + 1] = id
  end
end
return out
