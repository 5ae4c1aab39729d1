// The REST client against a real HTTPS server on loopback (tests/support/rest_server.py: Patroni's access checks
// and answers, without its DCS), with certificates from a CA made for the test.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "faults/topology.h"
#include "rest/rest.h"
#include "tests/support/eventually.h"
#include "tests/support/postgres_server.h"
#include "tests/support/temp_directory.h"
#include "tests/support/test_authority.h"

extern char** environ;

namespace pgchaos::rest {
namespace {

using testing::eventually;

// rest_server.py as a child process, killed with the object.
class RestServer {
 public:
  RestServer(const testing::TempDirectory& dir, const testing::CertificateFiles& tls, std::vector<std::string> options) {
    const auto port_file = dir / ("port-" + std::to_string(++started_));
    std::vector<std::string> args = {"python3", PGCHAOS_SOURCE_DIR "/tests/support/rest_server.py", "--port-file",
                                     port_file.string(), "--cert", tls.certificate.string(), "--key", tls.key.string()};
    args.insert(args.end(), options.begin(), options.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawnp(&pid_, "python3", nullptr, nullptr, argv.data(), environ) != 0)
      throw std::runtime_error("cannot start python3");
    if (!eventually([&] { return std::filesystem::exists(port_file); }, std::chrono::seconds(20),
                    std::chrono::milliseconds(20)))
      throw std::runtime_error("rest_server.py did not start");
    url_ = "https://127.0.0.1:" + testing::slurp(port_file);
  }
  ~RestServer() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  const std::string& url() const { return url_; }

 private:
  static inline int started_ = 0;
  pid_t pid_ = 0;
  std::string url_;
};

class RestTest : public ::testing::Test {
 protected:
  testing::TempDirectory dir_{"pgchaos-rest"};
  testing::TestAuthority authority_{dir_.path()};
  testing::CertificateFiles server_tls_ = authority_.server("patroni");
  Settings trusted() const {
    Settings s;
    s.ca_file = authority_.ca_certificate().string();
    return s;
  }
};

TEST_F(RestTest, HttpsWithTheClustersCaIsRead) {
  const RestServer server(dir_, server_tls_, {});
  const auto answer = request(server.url() + "/patroni", trusted());
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(nlohmann::json::parse(answer.body).value("role", ""), "master");
}

TEST_F(RestTest, AnUntrustedCertificateIsAnErrorNamingRestCaFile) {
  const RestServer server(dir_, server_tls_, {});
  try {
    request(server.url() + "/patroni", Settings{});
    FAIL() << "a certificate no trusted CA signed was accepted";
  } catch (const RestError& error) {
    EXPECT_NE(std::string(error.what()).find("rest_ca_file"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find(server.url()), std::string::npos) << error.what();
    EXPECT_TRUE(error.misconfigured);
  }
}

TEST_F(RestTest, TheRightCredentialsOpenProtectedEndpointsAndWrongOnesAreOneLineWithoutThePassword) {
  const RestServer server(dir_, server_tls_, {"--user", "patroni", "--password", "s3cret-right"});
  Settings s = trusted();
  s.user = "patroni";
  s.password = "s3cret-right";
  EXPECT_NO_THROW(check_credentials(server.url(), s));
  const auto patched = request(server.url() + "/config", s, "PATCH", R"({"ttl": 20})");
  EXPECT_EQ(patched.status, 200);
  EXPECT_EQ(nlohmann::json::parse(patched.body).value("ttl", 0), 20);

  s.password = "s3cret-wrong";
  try {
    check_credentials(server.url(), s);
    FAIL() << "a wrong password was accepted";
  } catch (const RestError& error) {
    const std::string text = error.what();
    EXPECT_NE(text.find("401"), std::string::npos) << text;
    EXPECT_NE(text.find("rest_user"), std::string::npos) << text;
    EXPECT_EQ(text.find("s3cret"), std::string::npos) << text;
    EXPECT_EQ(text.find('\n'), std::string::npos) << text;
    EXPECT_TRUE(error.misconfigured);
  }
  EXPECT_THROW(check_credentials(server.url(), trusted()), RestError) << "no credentials at all";
  // Reading needs no credentials, as in Patroni.
  EXPECT_EQ(request(server.url() + "/config", trusted()).status, 200);
}

TEST_F(RestTest, AClientCertificateIsSentWhenThePatroniAsksForOne) {
  const auto client_tls = authority_.client("pgchaos", "pgchaos");
  const RestServer server(dir_, server_tls_, {"--client-ca", authority_.ca_certificate().string()});
  try {
    request(server.url() + "/patroni", trusted());
    FAIL() << "the server required a client certificate and none was sent";
  } catch (const RestError& error) {
    EXPECT_NE(std::string(error.what()).find("rest_cert_file"), std::string::npos) << error.what();
  }
  Settings s = trusted();
  s.cert_file = client_tls.certificate.string();
  s.key_file = client_tls.key.string();
  EXPECT_EQ(request(server.url() + "/patroni", s).status, 200);
}

TEST_F(RestTest, RedirectsOtherSchemesAndProxiesAreRefused) {
  const RestServer server(dir_, server_tls_, {});
  EXPECT_THROW(
      {
        try {
          request(server.url() + "/moved", trusted());
        } catch (const RestError& error) {
          EXPECT_NE(std::string(error.what()).find("redirected (301)"), std::string::npos) << error.what();
          throw;
        }
      },
      RestError);
  EXPECT_THROW(request("ftp://127.0.0.1:1/patroni", trusted()), RestError);
  // A proxy from the environment is never used: the request still goes straight to the node.
  setenv("https_proxy", "http://127.0.0.1:1", 1);
  setenv("HTTPS_PROXY", "http://127.0.0.1:1", 1);
  EXPECT_EQ(request(server.url() + "/patroni", trusted()).status, 200);
  unsetenv("https_proxy");
  unsetenv("HTTPS_PROXY");
}

TEST_F(RestTest, NobodyListeningIsAnErrorNamingTheUrl) {
  try {
    request("http://127.0.0.1:1/patroni", Settings{}, "GET", "", std::chrono::seconds(1));
    FAIL() << "nothing listens on port 1";
  } catch (const RestError& error) {
    EXPECT_NE(std::string(error.what()).find("http://127.0.0.1:1/patroni"), std::string::npos) << error.what();
    EXPECT_FALSE(error.misconfigured) << "a node down is waited for, not a configuration error";
  }
}

// The topology is read through the node's own REST settings.
TEST_F(RestTest, TheTopologyIsReadOverHttpsWithTheNodesSettings) {
  const RestServer server(dir_, server_tls_, {});
  faults::Node node;
  node.name = "solo";
  node.postgres_host = "127.0.0.1";
  node.rest_url = server.url();
  const auto untrusted = faults::read_topology({node});
  ASSERT_EQ(untrusted.members.size(), 1u);
  EXPECT_NE(untrusted.members[0].error.find("rest_ca_file"), std::string::npos) << untrusted.members[0].error;
  node.rest = trusted();
  const auto read = faults::read_topology({node});
  ASSERT_EQ(read.members.size(), 1u);
  EXPECT_EQ(read.members[0].error, "");
  EXPECT_EQ(read.members[0].role, "primary");
  EXPECT_EQ(read.leader, "solo");
}

}  // namespace
}  // namespace pgchaos::rest
