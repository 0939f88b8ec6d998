#include "upstream/tls_context.h"

#include <openssl/ssl.h>

namespace sheepdog::upstream {

Status configure_tls_context(const TlsOptions& options, boost::asio::ssl::context& context) {
  namespace ssl = boost::asio::ssl;
  boost::system::error_code ec;
  context.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                          ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                          ssl::context::no_tlsv1_1,
                      ec);
  if (ec) {
    return Status::error("TLS: cannot set protocol options: " + ec.message());
  }
  // ALPN: say we speak HTTP/1.1 only, so a server that prefers h2 does not pick it.
  static constexpr unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  if (SSL_CTX_set_alpn_protos(context.native_handle(), kAlpn, sizeof(kAlpn)) != 0) {
    return Status::error("TLS: cannot set ALPN");
  }
  if (!options.verify_peer) {
    context.set_verify_mode(ssl::verify_none);
    return Status::ok();
  }
  context.set_verify_mode(ssl::verify_peer);
  if (!options.use_system_trust_store && options.ca_file.empty()) {
    return Status::error(
        "TLS: verification is on but there is no trust anchor (enable the system store or set "
        "a CA file)");
  }
  if (options.use_system_trust_store) {
    context.set_default_verify_paths(ec);
    if (ec) {
      return Status::error("TLS: cannot load the system trust store: " + ec.message());
    }
  }
  if (!options.ca_file.empty()) {
    context.load_verify_file(options.ca_file, ec);
    if (ec) {
      return Status::error("TLS: cannot load CA file '" + options.ca_file + "': " + ec.message());
    }
  }
  return Status::ok();
}

}  // namespace sheepdog::upstream
