-- KEYS: lock, fence. ARGV: owner, ttl ms, attempt ('' for none). Reply: outcome (0 held, 1
-- refreshed, 2 acquired), token, ms left, owner, fence. A new hold is marked with the attempt;
-- the owner's relock clears the mark, so that the attempt that made the hold can no longer undo it.
local current = redis.call('GET', KEYS[1])
if current then
  local token, mark, owner = parse_hold(current)
  local fence = redis.call('GET', KEYS[2]) or token
  if owner == ARGV[1] then
    if mark then
      redis.call('SET', KEYS[1], format_hold(token, nil, owner), 'KEEPTTL')
    end
    return {1, token, extend(KEYS[1], tonumber(ARGV[2])), owner, fence}
  end
  return {0, token, redis.call('PTTL', KEYS[1]), owner, fence}
end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], format_hold(token, ARGV[3], ARGV[1]), 'PX', ARGV[2])
return {2, token, tonumber(ARGV[2]), ARGV[1], token}
