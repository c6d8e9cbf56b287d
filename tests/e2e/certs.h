#ifndef AKSNAP_CERTS_H
#define AKSNAP_CERTS_H

/*
 * certs.h -- X.509 helpers for the end-to-end tests that need a test CA
 * (the emulator's TLS mode) or a client certificate (certificate auth).
 * OpenSSL only; nothing of aksnap.
 */

#include <openssl/evp.h>
#include <openssl/x509.h>

/*
 * certs_make(key, cn, issuer, issuer_key, is_ca):
 * A v3 certificate for ${key} named CN=${cn}, valid from an hour ago for a
 * day, signed by ${issuer_key} (issuer ${issuer}) or self-signed when
 * ${issuer} is NULL.  A CA gets basicConstraints CA:TRUE; a leaf gets
 * subjectAltName IP:127.0.0.1, DNS:localhost.  Caller X509_free's it.
 */
X509 *certs_make(EVP_PKEY *key, const char *cn, X509 *issuer,
    EVP_PKEY *issuer_key, int is_ca);

/*
 * certs_write_pem(path, cert, key):
 * Write ${cert} and/or ${key} (either may be NULL) to ${path} as PEM.
 * Returns 0 or -1.
 */
int certs_write_pem(const char *path, X509 *cert, EVP_PKEY *key);

/*
 * certs_tls_server(dir, ca, cert, key, len):
 * Generate a test CA and a server certificate for 127.0.0.1 signed by it;
 * write ${dir}/ca.pem, ${dir}/server.pem, ${dir}/server.key and put their
 * paths in ${ca}, ${cert}, ${key} (each ${len} bytes).  0 or -1.
 */
int certs_tls_server(
    const char *dir, char *ca, char *cert, char *key, size_t len);

#endif
