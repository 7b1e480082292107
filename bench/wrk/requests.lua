-- The requests of one bench/run.sh scenario, described by the environment so that one script serves
-- them all:
--   BENCH_METHOD        GET (default) or POST
--   BENCH_TOKEN         a bearer token, when the endpoint needs one
--   BENCH_BODY          a fixed JSON body (the login)
--   BENCH_RECORDS       citizen-account records per request, each with an ID number of its own:
--                       1 sends one JSON object (POST /citizen-accounts), more send an NDJSON batch
--   BENCH_SHAPE         "record" (default) or "official": each of the BENCH_RECORDS bodies is then a
--                       new official of BENCH_UNIT (POST /officials) instead
--   BENCH_UNIT          the unit of the new officials
--   BENCH_OFFICIAL      the official the records name (one holding a grant)
--   BENCH_REGISTERED_AT the moment the records were made at the desk
--   BENCH_BLOCK         the first of the blocks of ID numbers this run may use (one per thread)
-- At the end it prints one JSON line that bench/http-load.py reads.

local method = os.getenv("BENCH_METHOD") or "GET"
local token = os.getenv("BENCH_TOKEN")
local fixed_body = os.getenv("BENCH_BODY")
local records = tonumber(os.getenv("BENCH_RECORDS") or "0")
local official = os.getenv("BENCH_OFFICIAL")
local shape = os.getenv("BENCH_SHAPE") or "record"
local unit = os.getenv("BENCH_UNIT")
local registered_at = os.getenv("BENCH_REGISTERED_AT")
local first_block = tonumber(os.getenv("BENCH_BLOCK") or "0")

local threads = {}

function setup(thread)
   thread:set("block", first_block + #threads)
   table.insert(threads, thread)
end

local serial = 0
local id_prefix

function init(args)
   -- A valid 12-digit number: birth province 052, then a century/sex digit and a birth year that
   -- together name the block (0-199), then a serial of 6 digits.
   if block ~= nil then
      id_prefix = string.format("052%d%02d", math.floor(block / 100), block % 100)
   end
   wrk.method = method
   if token then
      wrk.headers["authorization"] = "Bearer " .. token
   end
   if fixed_body then
      wrk.headers["content-type"] = "application/json"
      wrk.body = fixed_body
   elseif records > 1 then
      wrk.headers["content-type"] = "application/x-ndjson"
   elseif records == 1 then
      wrk.headers["content-type"] = "application/json"
   end
end

local function record()
   serial = serial + 1
   if shape == "official" then
      return string.format('{"full_name":"Trần Thị Bích","unit_id":"%s","id_number":"%s%06d","phone":"0905%06d"}',
         unit, id_prefix, serial, serial % 1000000)
   end
   return string.format(
      '{"full_name":"Trần Thị Bích","id_number":"%s%06d","phone":"0905%06d","account_kind":"vneid_level2",' ..
      '"outcome":"created","official_id":"%s","registered_at":"%s"}',
      id_prefix, serial, serial % 1000000, official, registered_at)
end

if records > 0 then
   function request()
      local lines = {}
      for i = 1, records do
         lines[i] = record()
      end
      return wrk.format(nil, nil, nil, table.concat(lines, "\n"))
   end
end

function done(summary, latency, requests)
   local errors = summary.errors
   io.write(string.format(
      '{"requests":%d,"duration_us":%d,"non_2xx":%d,"connect_errors":%d,"read_errors":%d,' ..
      '"write_errors":%d,"timeouts":%d,"p50_us":%d,"p99_us":%d}\n',
      summary.requests, summary.duration, errors.status, errors.connect, errors.read,
      errors.write, errors.timeout, latency:percentile(50), latency:percentile(99)))
end
