-- Submits the final step of /needs/new/ as one worker, a different title on every request
-- (the site answers the same title and description within 60 s with the first need).
-- Fetches nothing itself: bench/run.py logs in and passes the session and CSRF cookies
-- with -H "Cookie: ...", and the rest after "--":
--
--   wrk -s bench/wrk/post_need.lua -H "Cookie: ..." URL -- 302 CSRF_TOKEN AREA_ID WORKSTATION_ID TAG
--
-- A need created answers 302 (to its page); a 200 is the form again with errors. Pass "-"
-- as WORKSTATION_ID when the worker's employer is in the directory (the field is not shown).

local here = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
dofile(here .. "report.lua")

local function urlencode(text)
  return (text:gsub("[^%w%-%._~]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end

local report_init = init

function init(args)
  report_init(args)
  local token, area, workstation, tag = args[2], args[3], args[4], args[5] or "run"
  counter = 0
  title_prefix = string.format("性能测试诉求 %s-%d-", tag, thread_no or 0)
  local fields = {
    "csrfmiddlewaretoken=" .. urlencode(token),
    "step=details",
    "description=" .. urlencode("性能测试：单位拖欠两个月加班费，希望工会协助协调。"),
    "kind=consultation",
    "area=" .. urlencode(area),
    "rights_type=labour_economic",
    "urgency=normal",
    "follow_up_consent=on",
  }
  if workstation and workstation ~= "-" then
    table.insert(fields, "workstation=" .. urlencode(workstation))
  end
  fixed_fields = table.concat(fields, "&")
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function request()
  counter = counter + 1
  local body = fixed_fields .. "&title=" .. urlencode(title_prefix .. counter)
  return wrk.format(nil, nil, nil, body)
end
