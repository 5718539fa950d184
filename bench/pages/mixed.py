"""The wrk scripts of the page benchmark: a status check, and the mixed run."""

from __future__ import annotations

import json
from urllib.parse import quote

# Counts answers that are not a 2xx (wrk's own count lets a 3xx pass) into wrk's
# "Non-2xx or 3xx responses" line by failing them loudly at the end.
STATUS_LUA = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0 end
function response(status, headers, body)
  if status < 200 or status > 299 then bad = bad + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("bad") end
  if total > 0 then io.write(string.format("Non-2xx or 3xx responses: %d\n", total)) end
end
"""

DESCRIPTION = ("per 1,000 requests, 850 anonymous public reads (70% a page of one of all organisations "
               "picked at random: its public page, events or feedback form; 30% the portal, all hotlines "
               "or the city calendar), 140 signed-in reads (dashboards, events, mailbox, city console), "
               "5 organisation edits (settings saved by five organisations' admins: each clears that "
               "organisation's pages and the lists) and 5 event registrations. The hit rate is cache hits "
               "among public reads sent (a read still in flight at the end counts as a miss)")

WEIGHTS = {"public": 850, "staff": 140, "edit": 5, "register": 5}


def _lua(value) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=True).replace("\\u", "\\\\u")  # ASCII only here
    if isinstance(value, list):
        return "{" + ", ".join(_lua(v) for v in value) + "}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"[{_lua(k)}] = {_lua(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


def lua(slugs: list[str], readers: list[dict], editors: list[dict], register: dict) -> str:
    """``readers``: signed-in sessions, each {"cookie", "paths"} (pages that person may open)."""
    data = {
        "slugs": slugs,
        "lists": ["/", "/hotlines", "/events", "/?kind=district_center", "/events?view=month"],
        "org_pages": ["/o/%s/", "/o/%s/events", "/o/%s/feedback"],
        "readers": readers,
        "editors": editors,
        "register": register,
        "weights": WEIGHTS,
        "address": quote("海安市压测路 "),
        "name": quote("压测"),
    }
    return "local D = " + _lua(data) + "\n" + r"""
local threads = {}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() * 100 + id)
  public, staff, edit, register, hits, bad, redirects = 0, 0, 0, 0, 0, 0, 0
  statuses = {}
  total_weight = D.weights.public + D.weights.staff + D.weights.edit + D.weights.register
end

local function pick(list) return list[math.random(#list)] end

function request()
  local r = math.random(total_weight)
  if r <= D.weights.public then
    public = public + 1
    if math.random(10) <= 7 then
      return wrk.format("GET", string.format(pick(D.org_pages), pick(D.slugs)))
    end
    return wrk.format("GET", pick(D.lists))
  end
  r = r - D.weights.public
  if r <= D.weights.staff then
    staff = staff + 1
    local reader = pick(D.readers)
    return wrk.format("GET", pick(reader.paths), {["Cookie"] = reader.cookie})
  end
  r = r - D.weights.staff
  if r <= D.weights.edit then
    edit = edit + 1
    local e = pick(D.editors)
    local body = "address=" .. D.address .. math.random(1, 999999) .. "&_csrf_token=" .. e.token
    return wrk.format("POST", "/manage/" .. e.slug .. "/settings",
      {["Cookie"] = e.cookie, ["Content-Type"] = "application/x-www-form-urlencoded"}, body)
  end
  register = register + 1
  local phone = string.format("139%08d", math.random(0, 99999999))
  local body = "name=" .. D.name .. "&phone=" .. phone .. "&email=&employer=&_csrf_token=" .. D.register.token
  return wrk.format("POST", D.register.path,
    {["Cookie"] = D.register.cookie, ["Content-Type"] = "application/x-www-form-urlencoded"}, body)
end

function response(status, headers, body)
  if headers["X-Page-Cache"] == "hit" or headers["x-page-cache"] == "hit" then hits = hits + 1 end
  if status == 303 then
    redirects = redirects + 1
  elseif status < 200 or status > 299 then
    bad = bad + 1
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local t = {public = 0, staff = 0, edit = 0, register = 0, hits = 0, bad = 0, redirects = 0}
  local codes = {}
  for _, thread in ipairs(threads) do
    for k, _ in pairs(t) do t[k] = t[k] + thread:get(k) end
    for code, n in pairs(thread:get("statuses")) do codes[#codes + 1] = code .. ":" .. n end
  end
  io.write(string.format(
    'MIXED {"public": %d, "staff": %d, "edit": %d, "register": %d, "hits": %d, "bad": %d, "redirects": %d, "statuses": "%s"}\n',
    t.public, t.staff, t.edit, t.register, t.hits, t.bad, t.redirects, table.concat(codes, " ")))
end
"""
