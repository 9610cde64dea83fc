//! The Lua run by Redis, one script per decision. Times are microseconds from Redis `TIME`
//! plus a per-limiter offset (0 in production; tests move it to step time forward).
//! The arithmetic repeats `rules.rs`: GCRA, the two-window recent rate, the hold estimate.

/// Shared helpers, prepended to every script.
const PRELUDE: &str = r#"
local function now_us(offset)
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2]) + tonumber(offset)
end
local function estimate(hold, n, unknown, floor)
  local e
  if not hold or hold <= 0 then e = unknown else e = math.floor(hold / math.max(n, 1)) end
  if e < floor then e = floor end
  return e
end
local function rate_milli(ix, cur, prev, now, width)
  local index = math.floor(now / width)
  local c, p = 0, 0
  if index == ix then c, p = cur, prev elseif index == ix + 1 then p = cur end
  local into = (now - index * width) / width
  return math.floor((p * (1 - into) + c) * 1000000000 / width)
end
"#;

/// Admit one request of an account: GCRA, then the lease count, all or nothing.
/// KEYS: rate hash, lease zset. ARGV: interval, tolerance, ceiling, member, ttl, offset,
/// window width, unknown-hold estimate, estimate floor.
/// Returns {0, in_flight, recent_rate_milli} | {1, wait} | {2, wait, in_flight}.
const ADMIT: &str = r#"
local now = now_us(ARGV[6])
local interval, tolerance = tonumber(ARGV[1]), tonumber(ARGV[2])
local ceiling, ttl, width = tonumber(ARGV[3]), tonumber(ARGV[5]), tonumber(ARGV[7])
local f = redis.call('HMGET', KEYS[1], 'tat', 'ix', 'cur', 'prev', 'hold')
local tat = tonumber(f[1]) or now
if tat < now then tat = now end
local allow_at = tat - tolerance
if now < allow_at then return {1, allow_at - now} end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local n = redis.call('ZCARD', KEYS[2])
if n >= ceiling then
  return {2, estimate(tonumber(f[5]), n, tonumber(ARGV[8]), tonumber(ARGV[9])), n}
end
redis.call('ZADD', KEYS[2], now + ttl, ARGV[4])
redis.call('PEXPIRE', KEYS[2], math.ceil(ttl / 1000) + 1000)
local ix, cur, prev = tonumber(f[2]) or 0, tonumber(f[3]) or 0, tonumber(f[4]) or 0
local index = math.floor(now / width)
if index == ix then cur = cur + 1
else
  if index == ix + 1 then prev = cur else prev = 0 end
  cur, ix = 1, index
end
tat = tat + interval
redis.call('HSET', KEYS[1], 'tat', tat, 'ix', ix, 'cur', cur, 'prev', prev)
redis.call('PEXPIRE', KEYS[1], math.ceil((tat - now + 2 * width) / 1000) + 1000)
return {0, n + 1, rate_milli(ix, cur, prev, now, width)}
"#;

/// Take one global slot. KEYS: lease zset, stats hash. ARGV: ceiling, member, ttl, offset,
/// unknown-hold estimate, estimate floor. Returns {0, in_flight} | {1, wait, in_flight}.
const CAPACITY: &str = r#"
local now = now_us(ARGV[4])
local ceiling, ttl = tonumber(ARGV[1]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local n = redis.call('ZCARD', KEYS[1])
if n >= ceiling then
  local hold = tonumber(redis.call('HGET', KEYS[2], 'hold'))
  return {1, estimate(hold, n, tonumber(ARGV[5]), tonumber(ARGV[6])), n}
end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[2])
redis.call('PEXPIRE', KEYS[1], math.ceil(ttl / 1000) + 1000)
return {0, n + 1}
"#;

/// Free one lease and fold its hold time into the average; or, with a refund, take back the
/// TAT step its admission made instead (a request that never ran is no hold sample).
/// KEYS: lease zset, hash holding `hold` (and `tat`). ARGV: member, held, keep-stats millis,
/// refund. Returns 1 if the lease was still there (0: it had expired).
const RELEASE: &str = r#"
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
local refund = tonumber(ARGV[4])
if removed == 1 and refund > 0 then
  local tat = tonumber(redis.call('HGET', KEYS[2], 'tat'))
  if tat then redis.call('HSET', KEYS[2], 'tat', tat - refund) end
elseif removed == 1 then
  local old = tonumber(redis.call('HGET', KEYS[2], 'hold'))
  local sample = math.max(tonumber(ARGV[2]), 1)
  local hold = sample
  if old and old > 0 then hold = math.max(math.floor(old * 0.8 + sample * 0.2), 1) end
  redis.call('HSET', KEYS[2], 'hold', hold)
  if redis.call('PTTL', KEYS[2]) < 0 then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
end
return removed
"#;

/// Push the expiry of leases still held by this node. KEYS: lease zset.
/// ARGV: ttl, offset, members... Returns how many were still there to renew.
const RENEW: &str = r#"
local now = now_us(ARGV[2])
local ttl = tonumber(ARGV[1])
local renewed = 0
for i = 3, #ARGV do
  renewed = renewed + redis.call('ZADD', KEYS[1], 'XX', 'CH', now + ttl, ARGV[i])
end
if renewed > 0 then redis.call('PEXPIRE', KEYS[1], math.ceil(ttl / 1000) + 1000) end
return renewed
"#;

/// An account's usage, read only. KEYS: rate hash, lease zset. ARGV: offset, window width.
/// Returns {in_flight, recent_rate_milli}.
const USAGE: &str = r#"
local now = now_us(ARGV[1])
local width = tonumber(ARGV[2])
local n = redis.call('ZCOUNT', KEYS[2], '(' .. now, '+inf')
local f = redis.call('HMGET', KEYS[1], 'ix', 'cur', 'prev')
local ix, cur, prev = tonumber(f[1]) or 0, tonumber(f[2]) or 0, tonumber(f[3]) or 0
return {n, rate_milli(ix, cur, prev, now, width)}
"#;

/// The loaded scripts; `redis::Script` sends EVALSHA and falls back to EVAL once.
#[derive(Debug)]
pub(super) struct Scripts {
    pub admit: redis::Script,
    pub capacity: redis::Script,
    pub release: redis::Script,
    pub renew: redis::Script,
    pub usage: redis::Script,
}

impl Scripts {
    pub fn new() -> Self {
        let with_prelude = |body: &str| redis::Script::new(&format!("{PRELUDE}{body}"));
        Self {
            admit: with_prelude(ADMIT),
            capacity: with_prelude(CAPACITY),
            release: with_prelude(RELEASE),
            renew: with_prelude(RENEW),
            usage: with_prelude(USAGE),
        }
    }
}
