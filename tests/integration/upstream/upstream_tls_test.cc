// UpstreamClient over TLS against a loopback server whose certificates are made at test time:
// verification succeeds with the test CA for the right host (DNS and IP names) and fails,
// as kConnectFailed with a readable reason, for an untrusted certificate or the wrong host.
#include <gtest/gtest.h>

#include <cstdio>

#include "test_certs.h"
#include "test_server.h"
#include "upstream/tls_context.h"
#include "upstream/upstream_client.h"

namespace sheepdog::upstream::test {
namespace {

class UpstreamTlsTest : public UpstreamFixture {
 protected:
  UpstreamTlsTest()
      : ca_(issue("sheepdog test CA", nullptr, /*is_ca=*/true, "")),
        ca_file_(write_temp_file("sheepdog_upstream_test_ca.pem", ca_.cert_pem())) {
    // Only the test CA is trusted, so a success proves the chain was checked against it.
    TlsOptions options;
    options.use_system_trust_store = false;
    options.ca_file = ca_file_;
    Status status = configure_tls_context(options, tls_);
    EXPECT_TRUE(status.is_ok()) << status.message();
  }

  ~UpstreamTlsTest() override { std::remove(ca_file_.c_str()); }

  TestServer& start_tls_server(const Credential& credential) {
    server_tls_ = server_context(credential);
    return start_server(always("secure"), server_tls_.get());
  }

  Credential ca_;
  std::string ca_file_;
  std::unique_ptr<asio::ssl::context> server_tls_;
};

TEST_F(UpstreamTlsTest, VerifiedByIpAddressAndConnectionReused) {
  const Credential leaf = issue("server", &ca_, false, "DNS:localhost,IP:127.0.0.1");
  TestServer& server = start_tls_server(leaf);
  UpstreamClient& client = make_client();
  run([&]() -> asio::awaitable<void> {
    for (int i = 0; i < 3; ++i) {
      UpstreamResponse response = co_await client.send(request(), generous());
      CO_ASSERT_TRUE(response.ok()) << response.error;
      EXPECT_EQ(response.body, "secure");
    }
    EXPECT_EQ(server.accepted(), 1);
  });
}

TEST_F(UpstreamTlsTest, VerifiedByDnsName) {
  const Credential leaf = issue("server", &ca_, false, "DNS:localhost");
  start_tls_server(leaf);
  UpstreamClient& client = make_client();
  run([&]() -> asio::awaitable<void> {
    UpstreamRequest r = request();
    r.origin.host = "localhost";
    UpstreamResponse response = co_await client.send(r, generous());
    CO_ASSERT_TRUE(response.ok()) << response.error;
    EXPECT_EQ(response.body, "secure");
  });
}

TEST_F(UpstreamTlsTest, StreamingOverTls) {
  const Credential leaf = issue("server", &ca_, false, "IP:127.0.0.1");
  start_tls_server(leaf);
  UpstreamClient& client = make_client();
  run([&]() -> asio::awaitable<void> {
    ResponseStream stream = co_await client.open_stream(request(), generous());
    CO_ASSERT_TRUE(stream.ok()) << stream.head().error;
    UpstreamResponse full = co_await stream.read_all(1024);
    EXPECT_EQ(full.body, "secure");
    EXPECT_EQ(client.pool().idle_count(server_->origin()), 1u);
  });
}

TEST_F(UpstreamTlsTest, UntrustedCertificateFailsToConnect) {
  const Credential self_signed = issue("impostor", nullptr, false, "IP:127.0.0.1");
  TestServer& server = start_tls_server(self_signed);
  UpstreamClient& client = make_client();
  run([&]() -> asio::awaitable<void> {
    UpstreamResponse response = co_await client.send(request(), generous());
    EXPECT_EQ(response.transport, TransportResult::kConnectFailed);
    EXPECT_NE(response.error.find("certificate verify failed"), std::string::npos)
        << response.error;
    EXPECT_NE(response.error.find("self-signed certificate"), std::string::npos) << response.error;
    EXPECT_EQ(client.pool().in_use_count(server.origin()), 0u);
  });
}

TEST_F(UpstreamTlsTest, WrongHostFailsToConnect) {
  const Credential leaf = issue("server", &ca_, false, "DNS:api.example.test");
  start_tls_server(leaf);
  UpstreamClient& client = make_client();
  run([&]() -> asio::awaitable<void> {
    UpstreamResponse by_ip = co_await client.send(request(), generous());
    EXPECT_EQ(by_ip.transport, TransportResult::kConnectFailed);
    EXPECT_NE(by_ip.error.find("IP address mismatch"), std::string::npos) << by_ip.error;

    UpstreamRequest r = request();
    r.origin.host = "localhost";
    UpstreamResponse by_name = co_await client.send(r, generous());
    EXPECT_EQ(by_name.transport, TransportResult::kConnectFailed);
    EXPECT_NE(by_name.error.find("hostname mismatch"), std::string::npos) << by_name.error;
  });
}

TEST(TlsContextTest, DefaultsLoadTheSystemStore) {
  asio::ssl::context context(asio::ssl::context::tls_client);
  Status status = configure_tls_context(TlsOptions{}, context);
  EXPECT_TRUE(status.is_ok()) << status.message();
  EXPECT_EQ(SSL_CTX_get_verify_mode(context.native_handle()), SSL_VERIFY_PEER);
}

TEST(TlsContextTest, MissingCaFileIsAnError) {
  asio::ssl::context context(asio::ssl::context::tls_client);
  TlsOptions options;
  options.ca_file = "/nonexistent/sheepdog-ca.pem";
  Status status = configure_tls_context(options, context);
  ASSERT_FALSE(status.is_ok());
  EXPECT_NE(status.message().find("/nonexistent/sheepdog-ca.pem"), std::string::npos);
}

TEST(TlsContextTest, VerificationWithoutTrustAnchorsIsAnError) {
  asio::ssl::context context(asio::ssl::context::tls_client);
  TlsOptions options;
  options.use_system_trust_store = false;
  EXPECT_FALSE(configure_tls_context(options, context).is_ok());
  options.verify_peer = false;
  EXPECT_TRUE(configure_tls_context(options, context).is_ok());
}

}  // namespace
}  // namespace sheepdog::upstream::test
