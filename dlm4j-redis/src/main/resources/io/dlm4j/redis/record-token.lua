-- KEYS: lock, fence. ARGV: owner, token, attempt. Records a Redlock token on this server while
-- the owner still holds the lock here: the stored token becomes it, and the fence counter at
-- least it. A copy the attempt made keeps its mark, so that the cleanup of an attempt that fails
-- after all can still remove it.
local current = redis.call('GET', KEYS[1])
if not current then
  return {0}
end
local token, mark, owner = parse_hold(current)
if owner ~= ARGV[1] then
  return {0}
end
if tonumber(redis.call('GET', KEYS[2]) or '0') < tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], ARGV[2])
end
local kept = nil
if mark ~= nil and mark == ARGV[3] then
  kept = mark
end
redis.call('SET', KEYS[1], format_hold(ARGV[2], kept, owner), 'KEEPTTL')
return {1}
