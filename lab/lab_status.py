#!/usr/bin/env python3
"""Status of the pgchaos lab: each node's own view (GET /patroni, never the possibly stale /cluster), the
postmasters running in each node's namespace, and the etcd members. "healthy" means: one running primary,
every other node a running replica streaming from it on the leader's timeline with bounded lag, and exactly
one postmaster per node.

  lab_status.py STATE_DIR [--json] [--wait SECONDS]   exit 0 healthy, 1 not healthy
"""
import json
import os
import ssl
import subprocess
import sys
import time
import urllib.request

MAX_LAG_BYTES = 16 * 1024 * 1024
POSTMASTER = "/usr/lib/postgresql/15/bin/postgres"


def read_env(state):
    env = {}
    with open(os.path.join(state, "lab.env")) as f:
        for line in f:
            key, _, value = line.strip().partition("=")
            env[key] = value.strip('"')
    return env


def tls_of(state, env):
    """The seed profile's PKI (HTTPS REST, etcd with client certificates), or None for the default lab."""
    if env.get("LAB_PROFILE") != "seed":
        return None
    pki = os.path.join(state, "pki")
    return {"ca": os.path.join(pki, "ca.pem"), "cert": os.path.join(pki, "client.pem"),
            "key": os.path.join(pki, "client-key.pem"),
            "context": ssl.create_default_context(cafile=os.path.join(pki, "ca.pem"))}


def patroni_view(ip, tls):
    try:
        url = f"https://{ip}:8008/patroni" if tls else f"http://{ip}:8008/patroni"
        with urllib.request.urlopen(url, timeout=2, context=tls["context"] if tls else None) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:  # 503 still carries the node's view
        try:
            return json.load(e)
        except Exception:
            return {"error": str(e)}
    except Exception as e:
        return {"error": str(e)}


def postmasters(node):
    """Postmasters among the processes of the node's network namespace (counted, never killed, by name)."""
    out = subprocess.run(["ip", "netns", "pids", node], capture_output=True, text=True).stdout.split()
    count = 0
    for pid in out:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if f.read().split(b"\0")[0].decode() == POSTMASTER:
                    count += 1
        except OSError:
            pass
    return count


def etcd_members(ip, tls):
    endpoint = [f"--endpoints=https://{ip}:2379", f"--cacert={tls['ca']}", f"--cert={tls['cert']}",
                f"--key={tls['key']}"] if tls else [f"--endpoints=http://{ip}:2379"]
    r = subprocess.run(["etcdctl", *endpoint, "--command-timeout=2s", "member", "list", "-w", "json"],
                       capture_output=True, text=True, env=dict(os.environ, ETCDCTL_API="3"))
    if r.returncode != 0:
        return None
    return sorted(m.get("name", "?") for m in json.loads(r.stdout).get("members", []))


def lsn(value):
    """Patroni reports WAL positions as integers; accept PostgreSQL's 'X/Y' text too."""
    if isinstance(value, int):
        return value
    hi, lo = value.split("/")
    return (int(hi, 16) << 32) + int(lo, 16)


def collect(state):
    env = read_env(state)
    tls = tls_of(state, env)
    nodes = []
    for i, name in enumerate(env["LAB_NODES"].split()):
        ip = f"{env['LAB_PREFIX']}.{11 + i}"
        view = patroni_view(ip, tls)
        nodes.append({
            "name": name, "ip": ip,
            "role": view.get("role"), "state": view.get("state"), "timeline": view.get("timeline"),
            "xlog": view.get("xlog", {}), "replication": view.get("replication", []),
            "error": view.get("error"), "postmasters": postmasters(name), "etcd_members": etcd_members(ip, tls),
        })
    problems = []
    leaders = [n for n in nodes if n["role"] in ("master", "primary") and n["state"] == "running"]
    if len(leaders) != 1:
        problems.append(f"{len(leaders)} running primaries ({', '.join(n['name'] for n in leaders) or 'none'})")
    leader = leaders[0] if len(leaders) == 1 else None
    leader_lsn = lsn(leader["xlog"]["location"]) if leader and "location" in leader["xlog"] else None
    streaming = {r.get("application_name"): r.get("state") for r in (leader["replication"] if leader else [])}
    for n in nodes:
        n["lag_bytes"] = None
        if n["postmasters"] != 1:
            problems.append(f"{n['name']}: {n['postmasters']} postmasters")
        if n["error"]:
            problems.append(f"{n['name']}: REST API: {n['error']}")
            continue
        if n is leader:
            continue
        if n["role"] != "replica" or n["state"] != "running":
            problems.append(f"{n['name']}: {n['role']} {n['state']}")
            continue
        if leader and n["timeline"] != leader["timeline"]:
            problems.append(f"{n['name']}: timeline {n['timeline']}, leader's is {leader['timeline']}")
        if leader and streaming.get(n["name"]) != "streaming":
            problems.append(f"{n['name']}: not streaming from {leader['name']} ({streaming.get(n['name'], 'no walsender')})")
        replayed = n["xlog"].get("replayed_location")
        if leader_lsn is not None and replayed is not None:
            n["lag_bytes"] = max(0, leader_lsn - lsn(replayed))
            if n["lag_bytes"] > MAX_LAG_BYTES:
                problems.append(f"{n['name']}: lag {n['lag_bytes']} bytes")
    members = [n["etcd_members"] for n in nodes if n["etcd_members"] is not None]
    if len(members) != len(nodes):
        problems.append(f"etcd answers on {len(members)} of {len(nodes)} nodes")
    return {"healthy": not problems, "problems": problems, "leader": leader["name"] if leader else None,
            "dcs": env.get("LAB_DCS"), "profile": env.get("LAB_PROFILE", "default"), "nodes": nodes}


def show(status):
    print(f"{'node':6} {'ip':14} {'role':8} {'state':18} {'TL':>3} {'lag':>10} {'pm':>3}  etcd members")
    for n in status["nodes"]:
        lag = "" if n["lag_bytes"] is None else f"{n['lag_bytes']}B"
        members = ",".join(n["etcd_members"]) if n["etcd_members"] else "(no answer)"
        print(f"{n['name']:6} {n['ip']:14} {str(n['role'] or '-'):8} {str(n['state'] or n['error'] or '-')[:18]:18} "
              f"{str(n['timeline'] or '-'):>3} {lag:>10} {n['postmasters']:>3}  {members}")
    print("healthy" if status["healthy"] else "NOT healthy: " + "; ".join(status["problems"]))


def main():
    state = sys.argv[1]
    as_json = "--json" in sys.argv
    wait = float(sys.argv[sys.argv.index("--wait") + 1]) if "--wait" in sys.argv else 0
    deadline = time.time() + wait
    while True:
        status = collect(state)
        if status["healthy"] or time.time() >= deadline:
            break
        time.sleep(1)
    print(json.dumps(status)) if as_json else show(status)
    sys.exit(0 if status["healthy"] else 1)


if __name__ == "__main__":
    main()
