#ifndef LINKGATE_COPENSSL_SHIM_H
#define LINKGATE_COPENSSL_SHIM_H

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/rsa.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/decoder.h>
#include <openssl/encoder.h>
#include <openssl/sha.h>

// Function-like macros Swift cannot import.
static inline void linkgate_openssl_free(void *p) { OPENSSL_free(p); }
static inline long linkgate_bio_get_mem_data(BIO *bio, char **out) { return BIO_get_mem_data(bio, out); }
static inline int linkgate_bn_num_bytes(const BIGNUM *bn) { return BN_num_bytes(bn); }

// Key selections are nested macros the importer does not fold.
static inline int linkgate_selection_public_key(void) { return EVP_PKEY_PUBLIC_KEY; }
static inline int linkgate_selection_keypair(void) { return EVP_PKEY_KEYPAIR; }

// SHA-256 of one short message on a stack SHA256_CTX, for the Connect `qsh`
// (Sources/JWT/Connect/CanonicalForm+hash.swift; docs/jwt.md, "The Connect request
// binding"). EVP_Digest sets up an EVP_MD_CTX on every call: measured in C on the
// development VM, 80 bytes take 122 ns through EVP_Digest, 100 ns through a reused
// EVP_MD_CTX and 75 ns here. SHA256_Init/Update/Final are deprecated in OpenSSL 3.0
// but still libcrypto's own SHA-256 (with the same CPU dispatch, SHA extensions
// included), hence the silenced warning; an OpenSSL built without the deprecated
// API gets EVP_Digest. Returns 1 on success, as OpenSSL does.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static inline int linkgate_sha256(const unsigned char *data, size_t count, unsigned char digest[32]) {
#ifndef OPENSSL_NO_DEPRECATED_3_0
    SHA256_CTX context;
    return SHA256_Init(&context) == 1 && SHA256_Update(&context, data, count) == 1
        && SHA256_Final(digest, &context) == 1;
#else
    unsigned int length = 0;
    return EVP_Digest(data, count, digest, &length, EVP_sha256(), NULL) == 1 && length == 32;
#endif
}
#pragma GCC diagnostic pop

#endif
