-- Each request a page the cache has not seen lately: 20 products after a random SKU, with a
-- counter in the page size's spelling so no two keys repeat within a second.
local skus = {}
for line in io.lines("skus.txt") do skus[#skus + 1] = line end
local n = 0
request = function()
  n = n + 1
  local after = skus[math.random(#skus)]
  return wrk.format("GET", "/api/products?limit=20&after=" .. after .. "&n=" .. n)
end
