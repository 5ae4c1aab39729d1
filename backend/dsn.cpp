// DSNs: pgchaos's connection defaults, conninfo quoting, pointing a DSN at another node, and passwords masked.
#include <libpq-fe.h>

#include <regex>

#include "backend/cluster_reader.h"
#include "session.h"

namespace pgchaos::backend {
namespace {

bool is_uri(const std::string& dsn) {
  return dsn.rfind("postgresql://", 0) == 0 || dsn.rfind("postgres://", 0) == 0;
}

bool mentions(const std::string& dsn, const std::string& key) {
  // Good enough for both syntaxes: "key=" in a conninfo string, "key=" after ? or & in a URI.
  return dsn.find(key + "=") != std::string::npos || dsn.find(key + " =") != std::string::npos;
}

std::string percent_encode(const std::string& value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

std::string quote_conninfo_value(const std::string& value) {
  std::string quoted = "'";
  for (const char c : value) {
    if (c == '\'' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "'";
}

std::string mask_password(const std::string& dsn) {
  static const std::regex uri_password(R"(^(postgres(?:ql)?://[^:@/]*:)[^@/]*@)");
  static const std::regex conninfo_password(R"((password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+))");
  if (is_uri(dsn)) {
    std::string masked = std::regex_replace(dsn, uri_password, "$1***@");
    return std::regex_replace(masked, std::regex(R"(([?&]password=)[^&]*)"), "$1***");
  }
  return std::regex_replace(dsn, conninfo_password, "$1***");
}

std::string with_connection_defaults(const std::string& dsn, const std::string& application_name) {
  const std::pair<std::string, std::string> defaults[] = {
      {"application_name", application_name},
      {"connect_timeout", "5"},
      {"keepalives_idle", "5"},
      {"keepalives_interval", "2"},
      {"keepalives_count", "3"},
      {"tcp_user_timeout", "10000"},
  };
  std::string result = dsn;
  const bool uri = is_uri(dsn);
  for (const auto& [key, value] : defaults) {
    if (mentions(dsn, key)) continue;
    if (uri) {
      result += (result.find('?') == std::string::npos ? '?' : '&') + key + "=" + percent_encode(value);
    } else {
      result += " " + key + "=" + quote_conninfo_value(value);
    }
  }
  return result;
}

std::string conninfo_for(const std::string& base_dsn, const std::string& host, int port) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(base_dsn.c_str(), &error);
  if (options == nullptr) {
    const std::string why = error ? error : "unparsable";
    PQfreemem(error);
    throw BackendError("cannot parse the DSN " + mask_password(base_dsn) + ": " + why);
  }
  std::string conninfo = "host=" + quote_conninfo_value(host) + " port=" + std::to_string(port);
  for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    const std::string keyword = o->keyword;
    if (o->val == nullptr || keyword == "host" || keyword == "hostaddr" || keyword == "port" ||
        keyword == "target_session_attrs")
      continue;
    conninfo += " " + keyword + "=" + quote_conninfo_value(o->val);
  }
  PQconninfoFree(options);
  return conninfo;
}

std::string without_masked_password(const std::string& dsn) {
  std::string text = std::regex_replace(dsn, std::regex(R"(^(postgres(?:ql)?://[^:@/]*):\*\*\*@)"), "$1@");
  text = std::regex_replace(text, std::regex(R"([?&]password=\*\*\*)"), "");
  return std::regex_replace(text, std::regex(R"(\s*password\s*=\s*\*\*\*)"), "");
}

}  // namespace pgchaos::backend
