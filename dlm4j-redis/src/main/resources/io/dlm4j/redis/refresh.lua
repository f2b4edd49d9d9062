-- KEYS: locks. ARGV: owner and ttl ms of each lock in turn. Reply per lock: the ms it has left
-- once extended (never less than before), 0 if that owner does not hold it. A refresh clears an
-- attempt's mark as a relock does. A single refresh is a batch of one. The locks lie in
-- different hash slots: fine on one server, which is all this store runs on; Redis Cluster
-- would refuse it.
local left = {}
for i, lock in ipairs(KEYS) do
  left[i] = 0
  local current = redis.call('GET', lock)
  if current then
    local token, mark, owner = parse_hold(current)
    if owner == ARGV[2 * i - 1] then
      if mark then
        redis.call('SET', lock, format_hold(token, nil, owner), 'KEEPTTL')
      end
      left[i] = extend(lock, tonumber(ARGV[2 * i]))
    end
  end
end
return left
