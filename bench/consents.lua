-- wrk script: POST /v1/consents with realistic, varied decisions, a new consent id each time.
-- Sites, origins, languages and partners follow sites.yaml; the bodies are valid for it.

local sites = {
  { id = "mixvoip.com", origin = "https://www.mixvoip.com", langs = { "en", "fr", "de", "nl" },
    partners = { "google-ads", "meta-pixel", "linkedin-insight", "microsoft-ads" } },
  { id = "mixvoip.org", origin = "https://www.mixvoip.org", langs = { "en", "fr", "de" },
    partners = { "google-ads", "linkedin-insight" } },
  { id = "voxbi.team", origin = "https://www.voxbi.team", langs = { "en", "fr", "de" },
    partners = { "linkedin-insight", "meta-pixel" } },
  { id = "voxbi.com", origin = "https://www.voxbi.com", langs = { "en", "fr", "de", "nl" },
    partners = { "google-ads", "meta-pixel", "microsoft-ads" } },
}

local agents = {
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
  "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
  "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
}

local pages = { "/", "/pricing", "/contact", "/en/telephony", "/fr/blog/voip-2026", "/de/kontakt" }

local function uuid4()
  local r = math.random
  return string.format("%04x%04x-%04x-4%03x-%x%03x-%04x%04x%04x",
    r(0, 0xffff), r(0, 0xffff), r(0, 0xffff), r(0, 0xfff), r(8, 11), r(0, 0xfff),
    r(0, 0xffff), r(0, 0xffff), r(0, 0xffff))
end

local counter = 0

function init(args)
  math.randomseed(os.time() * 1000 + (tonumber(tostring({}):sub(8), 16) or 0) % 100000)
end

function request()
  counter = counter + 1
  local site = sites[math.random(#sites)]
  local lang = site.langs[math.random(#site.langs)]
  local kind = math.random(10)
  local action, advertising, partners
  if kind <= 5 then
    action, advertising, partners = "refuse_all", "false", ""
  elseif kind <= 8 then
    action, advertising, partners = "accept_all", "true", ""
  else
    action, advertising = "custom", "true"
    local items = {}
    for i, p in ipairs(site.partners) do
      items[#items + 1] = string.format('"%s":%s', p, (i % 2 == 1) and "true" or "false")
    end
    partners = ',"partners":{' .. table.concat(items, ",") .. "}"
  end
  local page = site.origin .. pages[math.random(#pages)] .. "?utm_source=bench&n=" .. counter
  local body = string.format(
    '{"site":"%s","action":"%s","categories":{"technical":true,"advertising":%s}%s,'
      .. '"consent_id":"%s","revision":1,"language":"%s","page_url":"%s","gpc":%s}',
    site.id, action, advertising, partners, uuid4(), lang, page,
    (math.random(20) == 1) and "true" or "false")
  local headers = {
    ["Content-Type"] = "application/json",
    ["Origin"] = site.origin,
    ["User-Agent"] = agents[math.random(#agents)],
    ["Accept-Language"] = lang,
  }
  return wrk.format("POST", "/v1/consents", headers, body)
end
