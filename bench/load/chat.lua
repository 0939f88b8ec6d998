-- wrk script: POST a 200-byte OpenAI chat request (non-streaming). Extra request headers come
-- from the environment, as "Name: value" lines separated by ";" in WRK_HEADERS (the Portkey
-- leg needs x-portkey-provider and x-portkey-custom-host).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench-0000000000000000"

local prefix = '{"model":"gpt-4o-mini","max_tokens":16,"messages":[{"role":"user","content":"'
local suffix = '"}]}'
local fill = 200 - #prefix - #suffix
wrk.body = prefix .. string.rep("a", fill) .. suffix
assert(#wrk.body == 200, "body is " .. #wrk.body .. " bytes")

local extra = os.getenv("WRK_HEADERS")
if extra then
  for pair in string.gmatch(extra, "[^;]+") do
    local name, value = string.match(pair, "^%s*([^:]+):%s*(.-)%s*$")
    if name then
      wrk.headers[name] = value
    end
  end
end
