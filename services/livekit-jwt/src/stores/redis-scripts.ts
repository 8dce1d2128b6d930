// Lua scripts of the Redis job store. Every script gets KEYS = [jobs hash, versions hash, due
// sorted set] and acts on one field (a job key) or on the due jobs; Redis runs each atomically.
// A missing version counts as 0: jobs written by the reference service have none.

/** ARGV: key, value, due → {1 if a job was replaced else 0, new version}. */
export const PUT = `
local existed = redis.call('HEXISTS', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
return {existed, redis.call('HINCRBY', KEYS[2], ARGV[1], 1)}
`;

/** ARGV: key → {value, version} or nil. */
export const GET = `
local value = redis.call('HGET', KEYS[1], ARGV[1])
if not value then return false end
return {value, redis.call('HGET', KEYS[2], ARGV[1]) or '0'}
`;

/** ARGV: key, expected version, value, due → new version, or 0 when the job moved on or is gone. */
export const UPDATE = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
if tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0') ~= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
return redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
`;

/** ARGV: key, expected version → 1 when deleted, 0 when the job moved on or is gone. */
export const REMOVE = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
if tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0') ~= tonumber(ARGV[2]) then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
`;

/**
 * ARGV: now, limit, lease min, lease max, lease fraction → flat {key, value, version, …} of the
 * claimed jobs. A claimed job's due time moves to the end of its lease, `fraction` of its
 * `DelayTimeout` (ns) within [min, max] as `leaseOf` computes it (no other replica sees it due
 * before then), and its version is bumped (a claimant whose lease ran out can no longer write).
 * Due entries whose job is gone are cleaned up on the way.
 */
export const CLAIM = `
local now = tonumber(ARGV[1])
local min, max, fraction = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local keys = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, key in ipairs(keys) do
  local value = redis.call('HGET', KEYS[1], key)
  if not value then
    redis.call('ZREM', KEYS[3], key)
    redis.call('HDEL', KEYS[2], key)
  else
    local lease = max
    local ok, job = pcall(cjson.decode, value)
    if ok and type(job) == 'table' and type(job.Params) == 'table' then
      local delay = tonumber(job.Params.DelayTimeout)
      if delay then lease = math.min(max, math.max(min, delay / 1e6 * fraction)) end
    end
    redis.call('ZADD', KEYS[3], now + lease, key)
    table.insert(out, key)
    table.insert(out, value)
    table.insert(out, redis.call('HINCRBY', KEYS[2], key, 1))
  end
end
return out
`;
