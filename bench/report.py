#!/usr/bin/env python3
"""make bench's report: one table of every figure with its target and verdict, and a closing line counting the
targets met. Arguments: key=value pairs (milliseconds, per-second rates, KiB), then the legacy-hash file
(name<TAB>ours_ms<TAB>reference_ms lines). Called by scripts/bench.sh."""
import sys

values = dict(arg.split("=", 1) for arg in sys.argv[1:-1])
num = {k: float(v) for k, v in values.items() if k not in ("http_classes", "fdw_classes")}
bare = num["bare"]
rows = []  # (measurement, value, target, met: True / False / None for no target)


def row(name, value, target="", met=None):
    rows.append((name, value, target, met))


def ratio(name, latency, limit):
    row(name, f"{latency:.2f} ms", f"<= {limit}x bare verify ({latency / bare:.3f}x)", latency / bare <= limit)


row("bare argon2id verify, per statement, 1 client", f"{bare:.2f} ms", "(auth.verify_legacy_hash, same client and protocol)")
row("  2 clients", f"{num['bare2']:.2f} ms")
row("  the argon2 crate alone, in a loop", f"{num['crate_bare']:.2f} ms", f"({num['hit1'] / num['crate_bare']:.3f}x for a hit)")
ratio("auth.login hit, 1 client", num["hit1"], 1.03)
hit2 = num["hit2"] / num["bare2"]
row("auth.login hit, 2 clients", f"{num['hit2']:.2f} ms", f"<= 1.03x bare verify, 2 clients ({hit2:.3f}x)", hit2 <= 1.03)
row("  10 s runs: 1 client, 2 clients", f"{num['lat1']:.2f}, {num['lat2']:.2f} ms")
row("  same, 1 client, synchronous_commit = off", f"{num['lat_async']:.2f} ms", f"({num['lat_async'] / bare:.3f}x)")
scaling = num["tps2"] / num["tps1"]
row("throughput, 2 clients vs 1", f"{scaling:.2f}x", ">= 1.8x", scaling >= 1.8)
difference = abs(num["wrong"] - num["unknown"]) / num["wrong"] * 100
row("wrong password vs unknown email (import off)", f"{difference:.1f} %", "<= 5 %", difference <= 5)
row("legacy store login round trip (median)", f"{num['store_rt']:.2f} ms")
# The hash of each budget is the bare verification alternated with the migrations it is compared with.
for name, key, store_rt in (("migrating first login (median), 1 client", "migration", num["store_rt"]),
                            ("  2 clients", "migration2", num["store_rt2"])):
    budget = store_rt + num[key + "_bare"] + 1
    row(name, f"{num[key]:.2f} ms", f"<= store + hash + 1 ms = {budget:.2f} ms", num[key] <= budget)
async_budget = num["store_rt"] + num["migration_async_bare"] + 1
row("  1 client, synchronous_commit = off", f"{num['migration_async']:.2f} ms", f"({async_budget:.2f} ms)")
extra_hit, extra_miss = num["fresh_hit"] - num["warm_hit"], num["fresh_miss"] - num["warm_miss"]
row("first hit on a fresh backend, extra", f"{extra_hit:.2f} ms", "<= 2 ms", extra_hit <= 2)
extra_hash = num["fresh_hash"] - num["warm_hash"]
row("  of which the bare hash's own first time", f"{extra_hash:.2f} ms", "(argon2 memory faulted in, function looked up)")
extra_peer = num["fresh_peer"] - num["warm_peer"]
row("  a plain SQL login's (pgcrypto, no pg_trickle)", f"{extra_peer:.2f} ms", "(PostgreSQL's own first query and call)")
row("  touching 19 MiB of new memory: huge, small pages", f"{num['touch_huge']:.2f}, {num['touch_small']:.2f} ms",
    f"(the kernel zeroes each new page; rewriting touched memory: {num['touch_rewrite']:.2f} ms)")
row("first miss on a fresh backend, extra", f"{extra_miss:.2f} ms", "<= 3 ms (plain HTTP)", extra_miss <= 3)
row("migrated-user logins, 2 clients vs 1", f"{num['mtps2'] / num['mtps1']:.2f}x")
memory = {k: (num[f"mem_{k}_thousand"] - num[f"mem_{k}_fresh"]) / 1024 for k in ("on", "off")}
for k in ("on", "off"):
    after_one = (num[f"mem_{k}_one"] - num[f"mem_{k}_fresh"]) / 1024
    row(f"backend memory after 1 login, keep {k}", f"{after_one:.1f} MiB", "(RssAnon above a fresh backend)")
row("backend memory after 1,000 logins, keep on (default)", f"{memory['on']:.1f} MiB", "<= 4 MiB above fresh",
    memory["on"] <= 4)
row("  keep_hash_memory = off", f"{memory['off']:.1f} MiB", "<= 4 MiB above fresh", memory["off"] <= 4)
row("  login latency, keep_hash_memory = off", f"{num['lat_give_back']:.2f} ms",
    f"({num['lat_give_back'] / bare:.3f}x bare verify)")
row("logins/s, primary + standby, 1 client each", f"{num['ptps'] + num['stps']:.1f} /s",
    f"({(num['ptps'] + num['stps']) / num['tps2']:.2f}x the primary alone, 2 clients; 2 cores: overhead)")
row("  per node: primary, standby latency", f"{num['plat']:.2f}, {num['slat']:.2f} ms",
    f"({num['plat'] / bare:.3f}x, {num['slat'] / bare:.3f}x bare verify)")
for store in ("http", "fdw"):
    c = dict(pair.split("=") for pair in values[f"{store}_classes"].split())
    times = {k[:-3]: float(v) for k, v in c.items() if k.endswith("_ms") and k != "store_round_trip_ms"}
    rt = float(c.get("store_round_trip_ms", num["store_rt"]))
    low, high = min(times.values()), max(times.values())
    shown = ", ".join(f"{name.replace('_', ' ')} {ms:.2f}" for name, ms in times.items())
    row(f"import mode refusals, {store.upper()} store (ms)", f"{high / low:.3f} max/min",
        f"spread {high - low:.2f} <= 5 % + round trip {0.05 * low + rt:.2f} ms; {shown}",
        high - low <= 0.05 * low + rt)
users_per_second = 50000 / num["import_ms"] * 1000
row("bulk import of 50,000 users (median of 3 rounds)", f"{users_per_second:,.0f} /s", ">= 80,000 /s",
    users_per_second >= 80000)
row("  vs a plain INSERT ... SELECT", f"{num['import_ms'] / num['plain_ms']:.2f}x", "<= 2x",
    num["import_ms"] / num["plain_ms"] <= 2)
row("login row updates: HOT share, index growth", f"{num['hot_users']:.0f} %, {num['growth_users']:.0f} KiB",
    f"(fillfactor 100: {num['hot_plain']:.0f} %, {num['growth_plain']:.0f} KiB)")
for line in open(sys.argv[-1]):
    name, ours, ref = line.rstrip("\n").split("\t")
    r = float(ours) / float(ref)
    row(f"legacy verify: {name}", f"{float(ours):.2f} ms", f"<= 1.2x the reference ({float(ref):.2f} ms: {r:.2f}x)",
        r <= 1.2)

print()
print(f"{'measurement':52} {'value':>16}   {'verdict':8} target")
for name, value, target, met in rows:
    verdict = "" if met is None else ("met" if met else "NOT met")
    print(f"{name:52} {value:>16}   {verdict:8} {target}")
judged = [met for *_, met in rows if met is not None]
print(f"\nbench: {sum(judged)} of {len(judged)} targets met")
