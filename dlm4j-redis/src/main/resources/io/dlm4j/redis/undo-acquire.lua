-- KEYS: lock. ARGV: owner, attempt, release channel. Deletes the hold only if that attempt made
-- it and its owner has not touched it since (the mark is still there); replies as release.lua.
local current = redis.call('GET', KEYS[1])
if current then
  local token, mark, owner = parse_hold(current)
  if owner == ARGV[1] and mark == ARGV[2] then
    redis.call('DEL', KEYS[1])
    return wake_waiters(ARGV[3], KEYS[1])
  end
end
return {0}
