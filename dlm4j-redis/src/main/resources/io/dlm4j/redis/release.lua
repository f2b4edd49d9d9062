-- KEYS: lock. ARGV: owner, release channel. Deletes and wakes the waiters only if this owner
-- holds it. Reply: {0} if not held; {1, 1} released; {1, 0, error} released, waiters not woken.
local current = redis.call('GET', KEYS[1])
if current then
  local token, mark, owner = parse_hold(current)
  if owner == ARGV[1] then
    redis.call('DEL', KEYS[1])
    return wake_waiters(ARGV[2], KEYS[1])
  end
end
return {0}
