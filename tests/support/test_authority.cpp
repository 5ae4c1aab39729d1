#include "tests/support/test_authority.h"

#include <fstream>

#include "tests/support/postgres_server.h"

namespace pgchaos::testing {
namespace {

std::string quoted(const std::filesystem::path& path) { return shell_quote(path.string()); }

}  // namespace

TestAuthority::TestAuthority(std::filesystem::path directory, const std::string& name)
    : directory_(std::move(directory)), name_("ca") {
  std::filesystem::create_directories(directory_);
  run_shell("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj " + shell_quote("/CN=" + name) + " -keyout " +
            quoted(directory_ / "ca.key") + " -out " + quoted(ca_certificate()));
}

CertificateFiles TestAuthority::server(const std::string& file_name) const {
  return issue(file_name, "127.0.0.1", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
}

CertificateFiles TestAuthority::client(const std::string& file_name, const std::string& common_name) const {
  return issue(file_name, common_name, "extendedKeyUsage=clientAuth\n");
}

CertificateFiles TestAuthority::issue(const std::string& file_name, const std::string& common_name,
                                      const std::string& extensions) const {
  const CertificateFiles files{directory_ / (file_name + ".crt"), directory_ / (file_name + ".key")};
  const auto request = directory_ / (file_name + ".csr"), extension_file = directory_ / (file_name + ".ext");
  std::ofstream(extension_file) << extensions;
  run_shell("openssl req -newkey rsa:2048 -nodes -subj " + shell_quote("/CN=" + common_name) + " -keyout " +
            quoted(files.key) + " -out " + quoted(request));
  run_shell("openssl x509 -req -days 2 -in " + quoted(request) + " -CA " + quoted(ca_certificate()) + " -CAkey " +
            quoted(directory_ / "ca.key") + " -CAcreateserial -extfile " + quoted(extension_file) + " -out " +
            quoted(files.certificate));
  return files;
}

}  // namespace pgchaos::testing
