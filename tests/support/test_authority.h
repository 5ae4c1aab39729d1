// A certificate authority for TLS tests, made with the openssl command line in a directory of the test's own:
// a CA, and certificates it signs for 127.0.0.1 (servers) or a name (clients).
#pragma once

#include <filesystem>
#include <string>

namespace pgchaos::testing {

struct CertificateFiles {
  std::filesystem::path certificate, key;
};

class TestAuthority {
 public:
  /// A new CA in `directory` (created if need be); throws std::runtime_error when openssl fails.
  explicit TestAuthority(std::filesystem::path directory, const std::string& name = "pgchaos test CA");
  std::filesystem::path ca_certificate() const { return directory_ / (name_ + ".crt"); }
  /// A server certificate for 127.0.0.1 and localhost, signed by this CA.
  CertificateFiles server(const std::string& file_name) const;
  /// A client certificate with `common_name` as its subject, signed by this CA.
  CertificateFiles client(const std::string& file_name, const std::string& common_name) const;

 private:
  CertificateFiles issue(const std::string& file_name, const std::string& common_name, const std::string& extensions) const;
  std::filesystem::path directory_;
  std::string name_;
};

}  // namespace pgchaos::testing
