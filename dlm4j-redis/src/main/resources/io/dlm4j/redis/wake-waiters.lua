-- wake_waiters(channel, lock) publishes the release and returns 1, or 0 and the server's error if
-- the PUBLISH was refused (an ACL user without rights on the channel gets NOPERM). The hold is gone
-- by then: the refusal must not turn a release into a failure.
local function wake_waiters(channel, lock)
  local published = redis.pcall('PUBLISH', channel, lock)
  if type(published) == 'table' and published.err then
    return {1, 0, published.err}
  end
  return {1, 1}
end
