-- parse_hold(value) returns token (a string), attempt (nil if unmarked) and owner;
-- format_hold(token, attempt, owner) makes a value (unmarked if attempt is nil or '').
-- Every script starts with these, so that the format lives here and in HoldValue only:
-- '<token>:<owner>', or '<token>~<attempt>:<owner>' while the attempt that made the hold may undo it.
local function parse_hold(value)
  local sep = string.find(value, ':', 1, true)
  local head = string.sub(value, 1, sep - 1)
  local owner = string.sub(value, sep + 1)
  local mark = string.find(head, '~', 1, true)
  if mark then
    return string.sub(head, 1, mark - 1), string.sub(head, mark + 1), owner
  end
  return head, nil, owner
end
local function format_hold(token, attempt, owner)
  if attempt == nil or attempt == '' then
    return token .. ':' .. owner
  end
  return token .. '~' .. attempt .. ':' .. owner
end
