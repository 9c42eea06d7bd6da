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

// Function-like macros Swift cannot import.
static inline void linkgate_openssl_free(void *p) { OPENSSL_free(p); }
static inline long linkgate_bio_get_mem_data(BIO *bio, char **out) { return BIO_get_mem_data(bio, out); }
static inline int linkgate_bn_num_bytes(const BIGNUM *bn) { return BN_num_bytes(bn); }

// Key selections are nested macros the importer does not fold.
static inline int linkgate_selection_public_key(void) { return EVP_PKEY_PUBLIC_KEY; }
static inline int linkgate_selection_keypair(void) { return EVP_PKEY_KEYPAIR; }

#endif
