-- KEYS: lock. Reply: {} if free, else {value, ms left}.
local current = redis.call('GET', KEYS[1])
if current then
  return {current, redis.call('PTTL', KEYS[1])}
end
return {}
