/*
 * certs.c -- test certificates: a CA, a server certificate for the
 * emulator's TLS mode, a client certificate for certificate auth.
 *
 * Keys are fresh RSA-2048 each time (a second or so of CPU): the tests
 * never ship a private key in the tree.
 */
#include "tests/e2e/certs.h"

#include <stdio.h>
#include <time.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

X509 *
certs_make(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
    int is_ca)
{
	X509 *x = X509_new();
	X509_NAME *name;
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(
	    X509_get_serialNumber(x), (long)(time(NULL) & 0xffff) + is_ca);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(
	    name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
	    is_ca ? "critical,CA:TRUE" : "CA:FALSE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	if (!is_ca) {
		ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name,
		    "IP:127.0.0.1,DNS:localhost");
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256());
	return x;
}

int
certs_write_pem(const char *path, X509 *cert, EVP_PKEY *key)
{
	FILE *fp = fopen(path, "w");
	int ok = 1;

	if (fp == NULL)
		return -1;
	if (cert != NULL)
		ok &= PEM_write_X509(fp, cert);
	if (key != NULL)
		ok &= PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL);
	if (fclose(fp) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

int
certs_tls_server(const char *dir, char *ca, char *cert, char *key, size_t len)
{
	EVP_PKEY *cakey = EVP_RSA_gen(2048), *k = EVP_RSA_gen(2048);
	X509 *cax = NULL, *x = NULL;
	int rc = -1;

	if (cakey == NULL || k == NULL)
		goto out;
	cax = certs_make(cakey, "aksnap test CA", NULL, NULL, 1);
	x = certs_make(k, "127.0.0.1", cax, cakey, 0);
	snprintf(ca, len, "%s/ca.pem", dir);
	snprintf(cert, len, "%s/server.pem", dir);
	snprintf(key, len, "%s/server.key", dir);
	if (certs_write_pem(ca, cax, NULL) || certs_write_pem(cert, x, NULL) ||
	    certs_write_pem(key, NULL, k))
		goto out;
	rc = 0;
out:
	X509_free(cax);
	X509_free(x);
	EVP_PKEY_free(cakey);
	EVP_PKEY_free(k);
	return rc;
}
