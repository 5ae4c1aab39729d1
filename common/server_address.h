// How a server names itself to pgchaos: the address and port of the connection, as the watcher's nodes are named.
#pragma once

namespace pgchaos::common {

/// A SQL expression: "ADDRESS:PORT" of the server. Through a pooler on the node (pgbouncer to the Unix socket) the
/// server has no address of the connection: the first address it listens on names it then (Patroni writes the
/// node's own there), else it is "local:PORT" (a server that cannot say which node it is).
inline constexpr const char* kServerAddressSql =
    "coalesce(host(inet_server_addr()), (SELECT a FROM unnest(string_to_array(replace(current_setting("
    "'listen_addresses'), ' ', ''), ',')) AS a WHERE a NOT IN ('', '*', '0.0.0.0', '::', 'localhost', '127.0.0.1', "
    "'::1') LIMIT 1), 'local') || ':' || current_setting('port')";

}  // namespace pgchaos::common
