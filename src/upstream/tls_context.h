// The client side TLS configuration for upstream connections. One asio::ssl::context serves
// every UpstreamClient in the process (OpenSSL's SSL_CTX is safe to share across threads once
// configured), so the trust store is loaded once at start-up.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <string>

#include "core/status.h"

namespace sheepdog::upstream {

struct TlsOptions {
  // Verify the server's certificate chain and host name. Off only for local experiments.
  bool verify_peer = true;
  // Trust the operating system's CA store (OpenSSL's default paths).
  bool use_system_trust_store = true;
  // An extra PEM file of trusted CAs (a private upstream's CA, a test CA). Empty = none.
  std::string ca_file;
};

// Configures `context` (made with asio::ssl::context::tls_client): TLS 1.2 or later, ALPN
// "http/1.1", and the trust anchors above. Per-connection settings (SNI, the host name to
// verify) are applied by connect(). Returns an error naming the file if ca_file cannot be
// loaded, or if verification is on but no trust anchor was configured.
Status configure_tls_context(const TlsOptions& options, boost::asio::ssl::context& context);

}  // namespace sheepdog::upstream
