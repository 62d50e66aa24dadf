-- wrk script: send requests in batches of `depth` (default 16) in one
-- write, so that a server gets many requests per read and can answer them
-- with one send. wrk counts every answer as one request.
--   wrk -s pipeline.lua URL -- [depth]
local depth = 16
local batch

init = function(args)
  depth = tonumber(args[1]) or depth
  local r = {}
  for i = 1, depth do
    r[i] = wrk.format(nil)
  end
  batch = table.concat(r)
end

request = function()
  return batch
end
