/**
 * Lua scripts the cluster runs in Redis. Each is atomic there: a batch gets its place in the
 * room's sequence, goes to the room's capped stream and to its channel in one step, as in
 * Centrifugo's Redis broker, so a receiver that sees a gap finds the missing batches in the
 * stream.
 */

/**
 * Appends a batch to a room's log and publishes it.
 * KEYS: meta hash, stream, channel. ARGV: envelope, stream cap, epoch to use if the log is new.
 * Publishes `epoch seq envelope`; returns the seq.
 */
export const PUBLISH_BATCH = `
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then
  epoch = ARGV[3]
  redis.call('HSET', KEYS[1], 'epoch', epoch)
end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], seq .. '-0', 'e', epoch, 'm', ARGV[1])
redis.call('PUBLISH', KEYS[3], epoch .. ' ' .. seq .. ' ' .. ARGV[1])
return seq
`;

/**
 * Claims a nick for a node, unless a live node holds it (its heartbeat key exists).
 * KEYS: nick hash, channel of nick changes. ARGV: nick key, node id, nick, heartbeat key prefix.
 * Returns "" when claimed, else the holder's `node nick`.
 */
export const CLAIM_NICK = `
local held = redis.call('HGET', KEYS[1], ARGV[1])
if held then
  local node = string.match(held, '^(%S+)')
  if node ~= ARGV[2] and redis.call('EXISTS', ARGV[4] .. node) == 1 then return held end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ' ' .. ARGV[3])
redis.call('PUBLISH', KEYS[2], '+' .. ARGV[1] .. ' ' .. ARGV[2] .. ' ' .. ARGV[3])
return ''
`;

/**
 * Frees a nick if `node` still holds it (a later claim by another node is kept).
 * KEYS: nick hash, channel of nick changes. ARGV: nick key, node id.
 */
export const RELEASE_NICK = `
local held = redis.call('HGET', KEYS[1], ARGV[1])
if held and string.match(held, '^(%S+)') == ARGV[2] then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('PUBLISH', KEYS[2], '-' .. ARGV[1] .. ' ' .. ARGV[2])
end
return 0
`;

/**
 * Removes a room member if `node` still holds it. KEYS: members hash. ARGV: nick, node id.
 */
export const REMOVE_MEMBER = `
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then redis.call('HDEL', KEYS[1], ARGV[1]) end
return 0
`;

/**
 * Records an operator ban change (a ban, or a tombstone for an unban: cluster/ban-sync.ts) in
 * the cluster's ban hash unless the hash holds a later change of the same target, and then
 * tells every node. Later: a higher version, or the same version and a higher node id; a bare
 * ban (the format before versions) counts as version `createdAt` of node "".
 * KEYS: bans hash, channel of ban changes. ARGV: target, entry (JSON), its version, its node,
 * notice. Returns 1 when recorded.
 */
export const CHANGE_BAN = `
local held = redis.call('HGET', KEYS[1], ARGV[1])
if held then
  local ok, old = pcall(cjson.decode, held)
  if ok and type(old) == 'table' then
    local version = tonumber(old.version or old.createdAt)
    local node = old.node
    if type(node) ~= 'string' then node = '' end
    local mine = tonumber(ARGV[3])
    if version and (version > mine or (version == mine and node >= ARGV[4])) then return 0 end
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PUBLISH', KEYS[2], ARGV[5])
return 1
`;

/**
 * Drops a ban entry that has nothing left to say, if it is still the one read.
 * KEYS: bans hash. ARGV: target, entry as read.
 */
export const PRUNE_BAN = `
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then redis.call('HDEL', KEYS[1], ARGV[1]) end
return 0
`;

/**
 * Records a member of a room for its node, and the room among the cluster's rooms.
 * KEYS: members hash, set of rooms. ARGV: nick, node id, room key.
 */
export const ADD_MEMBER = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
return 0
`;

/**
 * Drops a room from the cluster's rooms when no node has a member in it (atomic with
 * ADD_MEMBER: a member added at the same moment keeps it listed).
 * KEYS: members hash, set of rooms. ARGV: room key. Returns 1 when dropped.
 */
export const PRUNE_ROOM = `
if redis.call('HLEN', KEYS[1]) == 0 then
  redis.call('SREM', KEYS[2], ARGV[1])
  return 1
end
return 0
`;

/**
 * Claims a slot for a node's message ids (cluster/message-ids.ts): the node's current slot
 * when it still holds it or it is free, else the first free one; each claim expires unless the
 * heartbeat renews it. KEYS: none. ARGV: slot key prefix, node id, TTL in ms, slot count,
 * preferred slot (-1: none). Returns the slot, or -1 when every slot is held.
 */
export const CLAIM_SLOT = `
local function claim(i)
  local key = ARGV[1] .. i
  local holder = redis.call('GET', key)
  if holder == false or holder == ARGV[2] then
    redis.call('SET', key, ARGV[2], 'PX', ARGV[3])
    return true
  end
  return false
end
local preferred = tonumber(ARGV[5])
if preferred >= 0 and claim(preferred) then return preferred end
for i = 0, tonumber(ARGV[4]) - 1 do
  if claim(i) then return i end
end
return -1
`;

/** Frees a slot for message ids if `node` holds it. KEYS: slot key. ARGV: node id. */
export const RELEASE_SLOT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * Records a room's topic in the cluster's topic hash unless the hash has a newer one, and tells
 * every node. KEYS: topics hash, channel of topic changes. ARGV: room key, topic (JSON, with
 * `ts`), its ts, notice ("" for none). Returns 1 when recorded.
 */
export const CHANGE_TOPIC = `
local held = redis.call('HGET', KEYS[1], ARGV[1])
if held then
  local ok, old = pcall(cjson.decode, held)
  if ok and type(old) == 'table' and type(old.ts) == 'number' and old.ts > tonumber(ARGV[3]) then
    return 0
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[4] ~= '' then redis.call('PUBLISH', KEYS[2], ARGV[4]) end
return 1
`;
