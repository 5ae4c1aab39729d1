// Patroni's REST API as pgchaos speaks it: HTTP or HTTPS through libcurl, with the settings a protected API asks
// for (a CA to verify it, a client certificate, basic authentication). Every REST call of pgchaos goes through here.
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>

namespace pgchaos::rest {

/// How to reach a cluster's REST API; the same for every node. Read from [cluster] (rest_ca_file, rest_cert_file,
/// rest_key_file, rest_user, rest_password / rest_password_file / $PGCHAOS_REST_PASSWORD).
struct Settings {
  std::string ca_file;    ///< https: the CA that signed Patroni's certificate; empty: the system's CAs
  std::string cert_file;  ///< a client certificate (PEM), when Patroni verifies clients
  std::string key_file;   ///< its key (PEM)
  std::string user;       ///< basic authentication (restapi.authentication); empty: none
  std::string password;   ///< never printed, never written
  bool has_authentication() const { return !user.empty(); }
};

/// Refusals and failures, one line naming the URL and, where one is to blame, the setting to fix. Never the password.
struct RestError : std::runtime_error {
  RestError(const std::string& what, bool settings_to_blame = false)
      : std::runtime_error(what), misconfigured(settings_to_blame) {}
  /// The settings or the URL are wrong (401, 403, an untrusted or missing certificate, a redirect, a scheme), not
  /// the network: waiting will not help.
  bool misconfigured;
};

struct Response {
  long status = 0;
  std::string body;
};

/// One request (GET, PATCH, POST, ...; a body is sent as JSON). Any status is returned except 401 and 403 (the
/// credentials or the certificate were refused: RestError naming the settings) and redirects (refused: a REST
/// API that moved is a configuration error). Never goes through a proxy. Throws RestError.
Response request(const std::string& url, const Settings& settings, const std::string& method = "GET",
                 const std::string& body = "", std::chrono::milliseconds timeout = std::chrono::seconds(3));

/// Whether `settings` open Patroni's protected endpoints on `url` (a node's REST API): PATCH /config with an
/// empty patch, which Patroni authenticates and then refuses (400) without changing anything. Throws RestError
/// when they do not (401, 403, TLS) or the node cannot be reached.
void check_credentials(const std::string& url, const Settings& settings);

}  // namespace pgchaos::rest
