// libcurl's easy interface, one handle per request: REST calls are a few a second at most, and a fresh handle
// shares nothing between the watcher's threads.
#include <curl/curl.h>
#include <fmt/format.h>

#include <mutex>

#include "common/text.h"
#include "rest/rest.h"

namespace pgchaos::rest {
namespace {

// curl_global_init before the first handle, once, whichever thread comes first.
void initialize_curl() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw RestError("libcurl could not be initialized");
  });
}

std::size_t append_body(char* data, std::size_t size, std::size_t count, void* body) {
  static_cast<std::string*>(body)->append(data, size * count);
  return size * count;
}

struct Handle {
  CURL* curl = curl_easy_init();
  curl_slist* headers = nullptr;
  ~Handle() {
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
  }
};

// The first line of a body, short and printable, for an error message.
std::string first_line(const std::string& body) {
  const std::string line = body.substr(0, body.find('\n'));
  return common::printable(line.size() > 120 ? line.substr(0, 120) : line);
}

const char* const kPasswordSettings = "rest_password_file, $PGCHAOS_REST_PASSWORD or rest_password";

// Why a transfer failed, with the setting that fixes it where there is one.
std::string transfer_error(const std::string& url, CURLcode code, const char* detail, const Settings& settings) {
  const std::string what = detail[0] != '\0' ? detail : curl_easy_strerror(code);
  // TLS 1.3 tells a missing client certificate only after the handshake, as an alert on the first read.
  if (what.find("certificate required") != std::string::npos)
    return fmt::format("Patroni requires a client certificate ({}): set rest_cert_file and rest_key_file in [cluster]", what);
  switch (code) {
    case CURLE_PEER_FAILED_VERIFICATION:
      return fmt::format("its TLS certificate is not trusted ({}): set rest_ca_file in [cluster] to the CA that signed it{}",
                         what, settings.ca_file.empty() ? "" : " (now " + settings.ca_file + ")");
    case CURLE_SSL_CACERT_BADFILE:
      return fmt::format("rest_ca_file {} cannot be used ({})", settings.ca_file, what);
    case CURLE_SSL_CERTPROBLEM:
      return fmt::format("the client certificate rest_cert_file {} / rest_key_file {} cannot be used ({})",
                         settings.cert_file, settings.key_file, what);
    case CURLE_UNSUPPORTED_PROTOCOL:
      return "only http:// and https:// REST URLs are supported";
    case CURLE_OPERATION_TIMEDOUT:
      return fmt::format("no answer in time ({})", what);
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
      // A server that requires a client certificate may just close the connection on one that has none.
      if (url.rfind("https://", 0) == 0 && settings.cert_file.empty())
        return what + ": if Patroni verifies clients (restapi.verify_client), set rest_cert_file and rest_key_file in [cluster]";
      return what;
    default:
      return what;
  }
}

}  // namespace

Response request(const std::string& url, const Settings& settings, const std::string& method, const std::string& body,
                 std::chrono::milliseconds timeout) {
  initialize_curl();
  Handle h;
  if (h.curl == nullptr) throw RestError(url + ": libcurl could not start a request");
  Response response;
  char detail[CURL_ERROR_SIZE] = "";
  const auto set = [&](CURLoption option, auto value) { curl_easy_setopt(h.curl, option, value); };
  set(CURLOPT_URL, url.c_str());
  set(CURLOPT_PROTOCOLS_STR, "http,https");
  set(CURLOPT_PROXY, "");  // never a proxy from the environment: pgchaos talks to the cluster's nodes only
  set(CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for the resolver's timeout
  set(CURLOPT_FOLLOWLOCATION, 0L);
  set(CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout.count()));
  set(CURLOPT_ERRORBUFFER, detail);
  set(CURLOPT_WRITEFUNCTION, append_body);
  set(CURLOPT_WRITEDATA, &response.body);
  set(CURLOPT_CUSTOMREQUEST, method.c_str());
  if (!body.empty() || method != "GET") {
    h.headers = curl_slist_append(h.headers, "Content-Type: application/json");
    set(CURLOPT_HTTPHEADER, h.headers);
    set(CURLOPT_POSTFIELDS, body.c_str());
    set(CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  if (!settings.ca_file.empty()) set(CURLOPT_CAINFO, settings.ca_file.c_str());
  if (!settings.cert_file.empty()) set(CURLOPT_SSLCERT, settings.cert_file.c_str());
  if (!settings.key_file.empty()) set(CURLOPT_SSLKEY, settings.key_file.c_str());
  if (settings.has_authentication()) {
    set(CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    set(CURLOPT_USERNAME, settings.user.c_str());
    set(CURLOPT_PASSWORD, settings.password.c_str());
  }
  if (const CURLcode code = curl_easy_perform(h.curl); code != CURLE_OK) {
    const bool misconfigured = code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT_BADFILE ||
                               code == CURLE_SSL_CERTPROBLEM || code == CURLE_UNSUPPORTED_PROTOCOL ||
                               code == CURLE_URL_MALFORMAT || std::string(detail).find("certificate required") != std::string::npos;
    throw RestError(fmt::format("{}: {}", url, transfer_error(url, code, detail, settings)), misconfigured);
  }
  curl_easy_getinfo(h.curl, CURLINFO_RESPONSE_CODE, &response.status);

  if (response.status == 401)
    throw RestError(fmt::format("{}: Patroni refused {} (401 {}): set rest_user and its password ({}) in [cluster]", url,
                                settings.has_authentication() ? "the credentials of rest_user " + settings.user
                                                              : "a request without credentials",
                                first_line(response.body), kPasswordSettings),
                    true);
  if (response.status == 403)
    throw RestError(fmt::format("{}: Patroni denied access (403 {}): {}", url, first_line(response.body),
                                response.body.find("certificate") != std::string::npos
                                    ? "set rest_cert_file and rest_key_file in [cluster] to a client certificate it trusts"
                                    : "allow this host in Patroni's restapi.allowlist"),
                    true);
  if (response.status >= 300 && response.status < 400) {
    char* location = nullptr;
    curl_easy_getinfo(h.curl, CURLINFO_REDIRECT_URL, &location);
    throw RestError(fmt::format("{}: redirected ({}) to {}: give the node's REST API itself as rest=", url,
                                response.status, location != nullptr ? common::printable(location) : "elsewhere"),
                    true);
  }
  return response;
}

void check_credentials(const std::string& url, const Settings& settings) {
  // Patroni reads the body only after it checked access; an empty patch is a 400 that changes nothing.
  const Response answer = request(url + "/config", settings, "PATCH", "{}");
  if (answer.status != 400 && answer.status != 200)
    throw RestError(fmt::format("{}/config: unexpected answer {} to an empty patch ({})", url, answer.status,
                                first_line(answer.body)));
}

}  // namespace pgchaos::rest
