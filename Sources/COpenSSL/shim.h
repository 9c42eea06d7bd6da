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
#include <string.h>

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

// HMAC-SHA256 (RFC 2104) on SHA256_CTX states keyed once, for HS256 tokens
// (Sources/JWT/Algorithms/HMACKey.swift; docs/jwt.md, "The Connect request binding").
// The inner and outer states have absorbed the key's padded block; a MAC copies them
// onto the stack and hashes the message, then the inner digest. This is what
// EVP_MAC's HMAC does, without its provider calls, EVP_MD_CTX copies and re-arming:
// measured in C on the development VM, 240 bytes take 196 ns against 260 ns through a
// pooled, re-armed EVP_MAC_CTX. Both return 1 on success; without the deprecated API,
// prepare returns 0 and the caller keeps EVP_MAC.
typedef struct {
    SHA256_CTX inner;
    SHA256_CTX outer;
} linkgate_hmac_sha256_key;

static inline int linkgate_hmac_sha256_prepare(linkgate_hmac_sha256_key *key, const unsigned char *secret,
                                               size_t count) {
#ifndef OPENSSL_NO_DEPRECATED_3_0
    unsigned char block[SHA256_CBLOCK] = {0};
    unsigned char pad[SHA256_CBLOCK];
    int ok = 1;
    if (count > SHA256_CBLOCK) {
        ok = linkgate_sha256(secret, count, block);
    } else if (count > 0) {
        memcpy(block, secret, count);
    }
    for (size_t i = 0; i < SHA256_CBLOCK; i++) pad[i] = block[i] ^ 0x36;
    ok = ok && SHA256_Init(&key->inner) == 1 && SHA256_Update(&key->inner, pad, SHA256_CBLOCK) == 1;
    for (size_t i = 0; i < SHA256_CBLOCK; i++) pad[i] = block[i] ^ 0x5c;
    ok = ok && SHA256_Init(&key->outer) == 1 && SHA256_Update(&key->outer, pad, SHA256_CBLOCK) == 1;
    OPENSSL_cleanse(block, sizeof block);
    OPENSSL_cleanse(pad, sizeof pad);
    return ok;
#else
    (void)key;
    (void)secret;
    (void)count;
    return 0;
#endif
}

static inline int linkgate_hmac_sha256(const linkgate_hmac_sha256_key *key, const unsigned char *data, size_t count,
                                       unsigned char mac[32]) {
#ifndef OPENSSL_NO_DEPRECATED_3_0
    SHA256_CTX context = key->inner;
    unsigned char inner[32];
    int ok = SHA256_Update(&context, data, count) == 1 && SHA256_Final(inner, &context) == 1;
    context = key->outer;
    // SHA256_Final leaves the digest in the context, never the keyed state it started from.
    return ok && SHA256_Update(&context, inner, sizeof inner) == 1 && SHA256_Final(mac, &context) == 1;
#else
    (void)key;
    (void)data;
    (void)count;
    (void)mac;
    return 0;
#endif
}
#pragma GCC diagnostic pop

#endif
