-- extend(lock, ttl) gives the lock at least ttl ms and returns the ms it now has left: a relock or
-- refresh never shortens a hold (another lease of the owner may count on the longer expiry).
-- A PTTL of -1 (no expiry, set by hand) is given the ttl.
local function extend(lock, ttl)
  local left = redis.call('PTTL', lock)
  if left < ttl then
    redis.call('PEXPIRE', lock, ttl)
    return ttl
  end
  return left
end
