#!/usr/bin/env python3
"""The lab's --set KEY=VALUE settings, written into each node's patroni.yml under bootstrap.dcs (Patroni's
dynamic configuration, which the cluster starts with).

  lab_settings.py check KEY=VALUE...            exit 2 with a message naming the bad --set
  lab_settings.py apply PATRONI_YML KEY=VALUE...
  lab_settings.py get PATRONI_YML KEY            the value in force (bootstrap.dcs)

KEY is one of Patroni's dynamic settings (ttl, loop_wait, retry_timeout, maximum_lag_on_failover,
synchronous_node_count, ...), postgresql.parameters.NAME for a PostgreSQL parameter, or postgresql.NAME for
Patroni's PostgreSQL settings (use_pg_rewind, remove_data_directory_on_rewind_failure, ...).
"""
import re
import sys

import yaml

# Patroni 3.0's dynamic configuration keys (docs: "Dynamic Configuration Settings").
DYNAMIC = {
    "ttl", "loop_wait", "retry_timeout", "maximum_lag_on_failover", "maximum_lag_on_syncnode",
    "max_timelines_history", "master_start_timeout", "primary_start_timeout", "master_stop_timeout",
    "primary_stop_timeout", "synchronous_mode", "synchronous_mode_strict", "synchronous_node_count",
    "check_timeline", "failsafe_mode",
}
POSTGRESQL = {
    "use_pg_rewind", "use_slots", "remove_data_directory_on_rewind_failure",
    "remove_data_directory_on_diverged_timelines",
}
INTEGER = {"ttl", "loop_wait", "retry_timeout", "maximum_lag_on_failover", "maximum_lag_on_syncnode",
           "max_timelines_history", "master_start_timeout", "primary_start_timeout", "master_stop_timeout",
           "primary_stop_timeout", "synchronous_node_count"}
BOOLEAN = {"synchronous_mode", "synchronous_mode_strict", "check_timeline", "failsafe_mode", "use_pg_rewind",
           "use_slots", "remove_data_directory_on_rewind_failure", "remove_data_directory_on_diverged_timelines"}


def parse(item):
    """(path, value) of KEY=VALUE, or raises ValueError saying what is wrong."""
    key, sep, text = item.partition("=")
    if not sep or not key or not text:
        raise ValueError(f"--set {item}: give KEY=VALUE")
    if re.search(r"[\s'\"\\]", text):
        raise ValueError(f"--set {item}: the value may not hold spaces, quotes or backslashes")
    path = key.split(".")
    name = path[-1]
    if len(path) == 1 and name in DYNAMIC:
        pass
    elif len(path) == 3 and path[:2] == ["postgresql", "parameters"] and re.fullmatch(r"[a-z_][a-z0-9_.]*", name):
        return path, text  # PostgreSQL takes every parameter as text
    elif len(path) == 2 and path[0] == "postgresql" and name in POSTGRESQL:
        pass
    else:
        raise ValueError(f"--set {item}: {key} is not a Patroni dynamic setting (one of "
                         f"{', '.join(sorted(DYNAMIC))}), postgresql.parameters.NAME or postgresql.NAME "
                         f"({', '.join(sorted(POSTGRESQL))})")
    if name in INTEGER:
        if not re.fullmatch(r"[0-9]+", text):
            raise ValueError(f"--set {item}: {key} must be a whole number")
        return path, int(text)
    if name in BOOLEAN:
        if text not in ("true", "false"):
            raise ValueError(f"--set {item}: {key} must be true or false")
        return path, text == "true"
    return path, text


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        if argv[1] == "check":
            for item in argv[2:]:
                parse(item)
            return 0
        if argv[1] == "apply":
            with open(argv[2]) as f:
                config = yaml.safe_load(f)
            for item in argv[3:]:
                path, value = parse(item)
                at = config["bootstrap"]["dcs"]
                for key in path[:-1]:
                    at = at.setdefault(key, {})
                at[path[-1]] = value
            with open(argv[2], "w") as f:
                yaml.safe_dump(config, f, default_flow_style=False, sort_keys=False)
            return 0
        if argv[1] == "get":
            with open(argv[2]) as f:
                at = yaml.safe_load(f)["bootstrap"]["dcs"]
            for key in argv[3].split("."):
                at = at[key]
            print(at)
            return 0
    except ValueError as error:
        print(f"lab: {error}", file=sys.stderr)
        return 2
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
