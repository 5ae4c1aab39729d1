// Internal to scenarios/: picking the lines that matter out of a log (collect_forensics is in scenarios.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "scenarios/scenarios.h"

namespace pgchaos::scenarios {

/// The lines of a log that tell what happened (promote, demote, lock, rewind, errors; not Patroni's "no action"
/// heartbeat) from 2 s before `since_wall_us` on, at most 60.
std::string key_log_lines(const std::string& log, std::int64_t since_wall_us);

/// Patroni 3.0.2's double demote (docs/patroni-3.0.2-bugs.md) in a node's log since `since_wall_us`: a demote
/// from Patroni's main thread while the first still ran, followed by a second postmaster started (or refused by
/// the lock file) or the data directory removed. Empty when absent; else the finding with its evidence lines.
std::string double_demote_evidence(const std::string& node, const std::string& log, std::int64_t since_wall_us);
/// How a node came back onto a new timeline in its log since `since_wall_us` (Patroni 3.0.2's words): "pgc1 rejoined
/// by pg_rewind", "pgc1 rejoined by reinitialisation (a new base backup)", or "pgc1 did not rejoin: FATAL: requested
/// timeline 2 is not a child of this server's history" when that refusal came after its last rejoin. Empty when the
/// log shows none of it (the node kept its timeline).
std::string rejoin_evidence(const std::string& node, const std::string& log, std::int64_t since_wall_us);
/// What a node's Patroni did about the DCS since `since_wall_us`, in its own words: "pgc2 demoted itself: the DCS was
/// not accessible", "pgc3 kept the lead in failsafe mode (every member answered)". Empty when neither.
std::string dcs_evidence(const std::string& node, const std::string& log, std::int64_t since_wall_us);
/// What a full WAL disk did to a node since `since_wall_us`, from PostgreSQL's and Patroni's lines: "pgc2's PostgreSQL
/// panicked at 20:10:26: PANIC:  could not write to file "pg_wal/xlogtemp.9689": No space left on device (7 times in
/// all), then Patroni kept the leader lock and started it again 3 times (no failover), and it accepted writes again
/// at 20:10:55". Empty when PostgreSQL never ran out of space.
std::string wal_disk_evidence(const std::string& node, const std::string& log, std::int64_t since_wall_us);
/// Patroni 3.0.2's etcd3 leader-key overwrite (docs/patroni-3.0.2-bugs.md) in the nodes' logs since `since_wall_us`
/// (node -> log): a node acted as the lock holder ("because I had the session lock", "the leader with the lock")
/// after another node had acquired the lock, without acquiring it again itself. Empty when absent; else the finding.
std::string lock_takeover_evidence(const std::map<std::string, std::string>& logs, std::int64_t since_wall_us);
/// What the `postmasters` template printed ("postmaster PID CWD" lines, then "pidfile PID"): empty when at most one
/// postmaster runs, in its data directory, and postmaster.pid names it; else the finding.
std::string postmaster_problems(const std::string& node, const std::string& listing);

}  // namespace pgchaos::scenarios
