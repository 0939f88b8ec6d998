// Test support: X.509 certificates made at test time with OpenSSL's API (no files in the
// repository, nothing that expires): a test CA, server certificates it signs for chosen
// subject alternative names, and a self-signed one no one trusts.
#pragma once

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/ssl/context.hpp>
#include <fstream>
#include <memory>
#include <string>

#include <unistd.h>

namespace sheepdog::upstream::test {

struct KeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct CertDeleter {
  void operator()(X509* cert) const { X509_free(cert); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyDeleter>;
using CertPtr = std::unique_ptr<X509, CertDeleter>;

struct Credential {
  KeyPtr key;
  CertPtr cert;

  std::string cert_pem() const {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, cert.get());
    return drain(bio);
  }
  std::string key_pem() const {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    return drain(bio);
  }

 private:
  static std::string drain(BIO* bio) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<size_t>(n));
    BIO_free(bio);
    return out;
  }
};

// Issues a certificate for `common_name`; self-signed iff issuer is null. `san` is an OpenSSL
// subjectAltName value ("DNS:localhost,IP:127.0.0.1"), empty for none.
inline Credential issue(const std::string& common_name, const Credential* issuer, bool is_ca,
                        const std::string& san) {
  static long serial = 1;
  Credential out;
  out.key.reset(EVP_EC_gen("P-256"));
  out.cert.reset(X509_new());
  X509* cert = out.cert.get();
  X509_set_version(cert, 2);  // v3
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
  X509_set_pubkey(cert, out.key.get());
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  X509* issuer_cert = issuer != nullptr ? issuer->cert.get() : cert;
  X509_set_issuer_name(cert, X509_get_subject_name(issuer_cert));

  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer_cert, cert, nullptr, nullptr, 0);
  auto add = [&](int nid, const std::string& value) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    EXPECT_NE(ext, nullptr) << value;
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  };
  add(NID_basic_constraints, is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  add(NID_key_usage, is_ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
  add(NID_subject_key_identifier, "hash");
  if (!san.empty()) {
    add(NID_subject_alt_name, san);
  }
  EVP_PKEY* signer = issuer != nullptr ? issuer->key.get() : out.key.get();
  EXPECT_GT(X509_sign(cert, signer, EVP_sha256()), 0);
  return out;
}

// A server-side TLS context presenting `credential`.
inline std::unique_ptr<boost::asio::ssl::context> server_context(const Credential& credential) {
  namespace ssl = boost::asio::ssl;
  auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
  const std::string cert = credential.cert_pem();
  const std::string key = credential.key_pem();
  context->use_certificate_chain(boost::asio::buffer(cert));
  context->use_private_key(boost::asio::buffer(key), ssl::context::pem);
  return context;
}

// Writes `pem` to a file in the test temp directory and returns its path.
// The name gets the process id and a counter: ctest runs tests as parallel processes, and two
// fixtures sharing one file would each load the other's CA (same subject, different key).
inline std::string write_temp_file(const std::string& name, const std::string& pem) {
  static int counter = 0;
  const std::string path = ::testing::TempDir() + std::to_string(::getpid()) + "_" +
                           std::to_string(counter++) + "_" + name;
  std::ofstream(path) << pem;
  return path;
}

}  // namespace sheepdog::upstream::test
