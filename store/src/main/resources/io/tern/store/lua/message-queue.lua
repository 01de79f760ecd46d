-- Records a single push accepted beyond the permit, as 'queued': it waits in the burst buffer (Kafka), so it
-- is NOT put in the device queue (a reconnect must not deliver it ahead of the permit). The drain's accept
-- (message-accept.lua, same msgId) promotes it. Honours the app's requestId like message-accept.lua.
-- The buffer record is written before this runs, so the drain may have got there first: a message that
-- exists already is left as it is.
-- KEYS: 1 idempotency key, 2 message hash, 3 device (known) key
-- ARGV: 1 msgId, 2 appId, 3 regId, 4 kind, 5 payload, 6 createdAt, 7 expiresAt, 8 retentionMs,
--       9 idempotencyTtlMs, 10 requestId ('' = none), 11 callback URL ('' = none), 12 callback param
-- Returns {created 0|1, msgId}, or {-1} when the device never connected.
if ARGV[10] ~= '' then
  local existing = redis.call('GET', KEYS[1])
  if existing then
    return {0, existing}
  end
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  return {0, ARGV[1]}
end
if redis.call('EXISTS', KEYS[3]) == 0 then
  return {-1}
end
redis.call('HSET', KEYS[2], 'app', ARGV[2], 'reg', ARGV[3], 'kind', ARGV[4], 'payload', ARGV[5],
  'created', ARGV[6], 'expires', ARGV[7], 'status', 'queued', 'req', ARGV[10])
if ARGV[11] ~= '' then
  redis.call('HSET', KEYS[2], 'cbUrl', ARGV[11], 'cbParam', ARGV[12])
end
redis.call('PEXPIREAT', KEYS[2], tonumber(ARGV[7]) + tonumber(ARGV[8]))
if ARGV[10] ~= '' then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[9])
end
return {1, ARGV[1]}
