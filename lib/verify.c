/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Signature of sw-description, with OpenSSL 3.0's EVP and CMS APIs.
 *
 * The "signature-scheme" option pins the method, as SWUpdate fixes it when
 * it is built (CONFIG_SIGALG_CMS, _RAWRSA, _RSAPSS): "cms" takes only a
 * detached DER CMS signature checked against the key file's certificates,
 * "rsa" only a raw RSA PKCS#1 v1.5 signature over SHA-256 and "rsa-pss" only
 * a raw RSA-PSS one (SHA-256, MGF1 with SHA-256, salt length read from the
 * signature). Unset, the key file decides: certificates mean CMS, a public
 * key means either raw RSA padding.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include "verify.h"

#define SIG_NAME "sw-description.sig"

/* What the key file holds: certificates or one public key, never both. */
struct trust {
	const char *path;
	STACK_OF(X509) *certs;
	EVP_PKEY *pkey;
};

/* The first reason in OpenSSL's error queue, for messages. */
static const char *openssl_reason(void)
{
	const char *r = ERR_reason_error_string(ERR_peek_error());
	return r ? r : "unknown OpenSSL error";
}

/* True when the PEM reader stopped at the end of the file rather than at a
 * broken block: OpenSSL reports "no start line" when no block is left. */
static int pem_reached_end(void)
{
	unsigned long e = ERR_peek_last_error();
	return ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
}

static int read_certs(swi_ctx_t *ctx, BIO *in, struct trust *t)
{
	t->certs = sk_X509_new_null();
	if (!t->certs)
		return swi_fail(ctx, SWI_ENOMEM, "%s: out of memory", t->path);
	X509 *x;
	while ((x = PEM_read_bio_X509(in, NULL, NULL, NULL))) {
		if (!sk_X509_push(t->certs, x)) {
			X509_free(x);
			return swi_fail(ctx, SWI_ENOMEM, "%s: out of memory", t->path);
		}
	}
	if (!pem_reached_end())
		return swi_fail(ctx, SWI_ECONFIG, "%s: unreadable certificate (%s)",
				t->path, openssl_reason());
	ERR_clear_error();
	return SWI_OK;
}

static int read_public_key(swi_ctx_t *ctx, BIO *in, struct trust *t)
{
	t->pkey = PEM_read_bio_PUBKEY(in, NULL, NULL, NULL);
	if (!t->pkey)
		return swi_fail(ctx, SWI_ECONFIG,
				"%s: holds neither a PEM certificate nor a PEM public key",
				t->path);
	if (!EVP_PKEY_is_a(t->pkey, "RSA"))
		return swi_fail(ctx, SWI_ECONFIG, "%s: public key is not an RSA key",
				t->path);
	return SWI_OK;
}

/* Reads the key file: certificates if there are any, else a public key. */
static int load_trust(swi_ctx_t *ctx, struct trust *t)
{
	t->path = ctx->opt.public_key;
	if (!t->path)
		return swi_fail(ctx, SWI_ECONFIG, "public-key: no key file configured");
	FILE *f = fopen(t->path, "rb");
	if (!f)
		return swi_fail(ctx, SWI_ECONFIG, "%s: %s", t->path, strerror(errno));
	BIO *in = BIO_new_fp(f, BIO_CLOSE);
	if (!in) {
		fclose(f);
		return swi_fail(ctx, SWI_ENOMEM, "%s: out of memory", t->path);
	}
	int rc = read_certs(ctx, in, t);
	if (rc == SWI_OK && sk_X509_num(t->certs) == 0) {
		if (BIO_seek(in, 0) < 0)
			rc = swi_fail(ctx, SWI_ECONFIG, "%s: cannot rewind", t->path);
		else
			rc = read_public_key(ctx, in, t);
	}
	BIO_free(in);
	return rc;
}

static void free_trust(struct trust *t)
{
	sk_X509_pop_free(t->certs, X509_free);
	EVP_PKEY_free(t->pkey);
}

/* ---- RSA ---------------------------------------------------------------- */

/* 1: the signature verifies with this padding; 0: it does not. */
static int rsa_verify(EVP_PKEY *pkey, int padding, const void *data, size_t len,
		      const void *sig, size_t siglen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int ok = md && EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, pkey) == 1 &&
		 EVP_PKEY_CTX_set_rsa_padding(pctx, padding) == 1;
	/* As SWUpdate's verifier: the salt length is read from the signature
	 * (-2), so a signature made with "-sigopt rsa_pss_saltlen:-2" (the
	 * longest salt) verifies, and so does one with a digest-long salt. */
	if (ok && padding == RSA_PKCS1_PSS_PADDING)
		ok = EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) == 1;
	ok = ok && EVP_DigestVerify(md, sig, siglen, data, len) == 1;
	EVP_MD_CTX_free(md); /* also frees pctx */
	return ok;
}

/* The raw RSA paddings a scheme accepts, tried in this order. */
struct rsa_padding {
	int padding;
	const char *name;
};

static const struct rsa_padding pkcs1_v15 = { RSA_PKCS1_PADDING, "RSA PKCS#1 v1.5" };
static const struct rsa_padding pss = { RSA_PKCS1_PSS_PADDING, "RSA-PSS" };

static int verify_rsa(swi_ctx_t *ctx, const struct trust *t, const char *scheme,
		      const void *data, size_t len, const void *sig, size_t siglen)
{
	const struct rsa_padding *tried[2] = { &pkcs1_v15, &pss };
	size_t n = 2;
	if (scheme) {
		tried[0] = strcmp(scheme, "rsa") == 0 ? &pkcs1_v15 : &pss;
		n = 1;
	}
	for (size_t i = 0; i < n; i++) {
		if (rsa_verify(t->pkey, tried[i]->padding, data, len, sig, siglen)) {
			swi_log(ctx, SWI_LOG_INFO, "%s: %s SHA-256 signature verified", SIG_NAME,
				tried[i]->name);
			return SWI_OK;
		}
	}
	if (scheme)
		return swi_fail(ctx, SWI_ESIG,
				"%s: signature does not match sw-description with the key in %s "
				"(signature-scheme %s takes only %s with SHA-256: %s)",
				SIG_NAME, t->path, scheme, tried[0]->name, openssl_reason());
	return swi_fail(ctx, SWI_ESIG,
			"%s: signature does not match sw-description with the key in %s "
			"(neither RSA PKCS#1 v1.5 nor RSA-PSS with SHA-256: %s)",
			SIG_NAME, t->path, openssl_reason());
}

/* A pinned scheme needs its kind of key: certificates for cms, a public
 * key for rsa and rsa-pss. */
static int check_key_fits_scheme(swi_ctx_t *ctx, const struct trust *t, const char *scheme)
{
	if (!scheme)
		return SWI_OK;
	bool wants_certs = strcmp(scheme, "cms") == 0;
	if (wants_certs && t->pkey)
		return swi_fail(ctx, SWI_ECONFIG,
				"signature-scheme cms needs certificates (PEM) as public-key, but %s "
				"holds an RSA public key (use signature-scheme rsa or rsa-pss with it)",
				t->path);
	if (!wants_certs && !t->pkey)
		return swi_fail(ctx, SWI_ECONFIG,
				"signature-scheme %s needs an RSA public key (PEM) as public-key, but "
				"%s holds certificates (use signature-scheme cms with them)",
				scheme, t->path);
	return SWI_OK;
}

/* ---- CMS ---------------------------------------------------------------- */

/* The subject as "CN=x,O=y" into buf, for messages. */
static const char *subject_text(X509 *x, char *buf, size_t size)
{
	BIO *mem = BIO_new(BIO_s_mem());
	int n = -1;
	if (mem && X509_NAME_print_ex(mem, X509_get_subject_name(x), 0, XN_FLAG_RFC2253) >= 0)
		n = BIO_read(mem, buf, (int)size - 1);
	BIO_free(mem);
	snprintf(buf + (n > 0 ? n : 0), size - (size_t)(n > 0 ? n : 0), "%s", n > 0 ? "" : "?");
	return buf;
}

static X509_STORE *make_store(const struct trust *t)
{
	X509_STORE *store = X509_STORE_new();
	for (int i = 0; store && i < sk_X509_num(t->certs); i++) {
		if (!X509_STORE_add_cert(store, sk_X509_value(t->certs, i))) {
			X509_STORE_free(store);
			return NULL;
		}
	}
	return store;
}

static int is_code_signing(swi_ctx_t *ctx)
{
	return strcmp(swi_opt_cert_purpose(ctx), "codeSigning") == 0;
}

/*
 * Verifies the signer's chain to the key file's certificates, the way
 * CMS_verify would, but here so the message can tell a wrong purpose from
 * an unknown signer.
 *
 * emailProtection is OpenSSL's "smime_sign" purpose (as SWUpdate sets it on
 * its store). OpenSSL 3.0 has no code-signing purpose, and SWUpdate adds one
 * to OpenSSL's global purpose table, which a library must not touch: for
 * codeSigning the chain is verified with the "any" purpose and the signer's
 * extended key usage is checked by check_code_signing().
 */
static int verify_signer_chain(swi_ctx_t *ctx, const struct trust *t, X509_STORE *store,
			       X509 *signer, STACK_OF(X509) *untrusted)
{
	X509_STORE_CTX *xctx = X509_STORE_CTX_new();
	if (!xctx || !X509_STORE_CTX_init(xctx, store, signer, untrusted)) {
		X509_STORE_CTX_free(xctx);
		return swi_fail(ctx, SWI_ENOMEM, "%s: out of memory", SIG_NAME);
	}
	X509_STORE_CTX_set_default(xctx, "smime_sign");
	/* Set on the parameters: X509_STORE_CTX_set_purpose() keeps a purpose
	 * that set_default() already put there. */
	if (is_code_signing(ctx))
		X509_VERIFY_PARAM_set_purpose(X509_STORE_CTX_get0_param(xctx), X509_PURPOSE_ANY);
	int ok = X509_verify_cert(xctx) == 1;
	int err = X509_STORE_CTX_get_error(xctx);
	X509_STORE_CTX_free(xctx);
	if (ok)
		return SWI_OK;
	char name[256];
	if (err == X509_V_ERR_INVALID_PURPOSE)
		return swi_fail(ctx, SWI_ESIG,
				"%s: signer certificate purpose is not emailProtection", SIG_NAME);
	return swi_fail(ctx, SWI_ESIG, "%s: signer '%s' is not trusted by %s (%s)", SIG_NAME,
			subject_text(signer, name, sizeof(name)), t->path,
			X509_verify_cert_error_string(err));
}

/* SWUpdate's rule for codeSigning: the signer must carry an extended key
 * usage extension and it must list codeSigning. */
static int check_code_signing(swi_ctx_t *ctx, X509 *signer)
{
	if (!is_code_signing(ctx))
		return SWI_OK;
	if ((X509_get_extension_flags(signer) & EXFLAG_XKUSAGE) &&
	    (X509_get_extended_key_usage(signer) & XKU_CODE_SIGN))
		return SWI_OK;
	return swi_fail(ctx, SWI_ESIG, "%s: signer certificate purpose is not codeSigning",
			SIG_NAME);
}

/* forced-signer-name: every common name of the signer must equal it. */
static int check_signer_name(swi_ctx_t *ctx, X509 *signer)
{
	const char *want = ctx->opt.forced_signer_name;
	if (!want || !*want)
		return SWI_OK;
	X509_NAME *subject = X509_get_subject_name(signer);
	int found = 0;
	for (int i = -1; (i = X509_NAME_get_index_by_NID(subject, NID_commonName, i)) >= 0;) {
		unsigned char *cn = NULL;
		int n = ASN1_STRING_to_UTF8(&cn, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i)));
		int match = n >= 0 && (size_t)n == strlen(want) && memcmp(cn, want, (size_t)n) == 0;
		OPENSSL_free(cn);
		if (!match) {
			found = 0;
			break;
		}
		found = 1;
	}
	if (found)
		return SWI_OK;
	char name[256];
	return swi_fail(ctx, SWI_ESIG, "%s: signer '%s' is not the forced signer '%s'",
			SIG_NAME, subject_text(signer, name, sizeof(name)), want);
}

static int check_signers(swi_ctx_t *ctx, const struct trust *t, CMS_ContentInfo *cms,
			 X509_STORE *store)
{
	STACK_OF(X509) *signers = CMS_get0_signers(cms);
	STACK_OF(X509) *untrusted = CMS_get1_certs(cms);
	int rc = signers && sk_X509_num(signers) > 0 ? SWI_OK :
		 swi_fail(ctx, SWI_ESIG, "%s: no signer", SIG_NAME);
	for (int i = 0; rc == SWI_OK && i < sk_X509_num(signers); i++) {
		X509 *signer = sk_X509_value(signers, i);
		rc = verify_signer_chain(ctx, t, store, signer, untrusted);
		if (rc == SWI_OK)
			rc = check_code_signing(ctx, signer);
		if (rc == SWI_OK)
			rc = check_signer_name(ctx, signer);
	}
	sk_X509_free(signers);
	sk_X509_pop_free(untrusted, X509_free);
	return rc;
}

/*
 * CMS_verify checks the signature over the content and finds the signer
 * certificates (in the signature, or else in the key file); the chain is
 * verified afterwards by check_signers() with the same store, so that each
 * failure gets its own message.
 */
static int verify_cms(swi_ctx_t *ctx, const struct trust *t, const void *data,
		      size_t len, const void *sig, size_t siglen)
{
	if (len > INT_MAX || siglen > INT_MAX)
		return swi_fail(ctx, SWI_ESIG, "%s: too large", SIG_NAME);
	BIO *sig_bio = BIO_new_mem_buf(sig, (int)siglen);
	BIO *content = BIO_new_mem_buf(len ? data : "", (int)len);
	X509_STORE *store = make_store(t);
	CMS_ContentInfo *cms = NULL;
	int rc;
	if (!sig_bio || !content || !store)
		rc = swi_fail(ctx, SWI_ENOMEM, "%s: out of memory", SIG_NAME);
	else if (!(cms = d2i_CMS_bio(sig_bio, NULL)))
		rc = swi_fail(ctx, SWI_ESIG, "%s: not a DER CMS signature (%s)", SIG_NAME,
			      openssl_reason());
	else if (CMS_verify(cms, t->certs, store, content, NULL,
			    CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) != 1)
		rc = swi_fail(ctx, SWI_ESIG, "%s: signature does not match sw-description (%s)",
			      SIG_NAME, openssl_reason());
	else
		rc = check_signers(ctx, t, cms, store);
	if (rc == SWI_OK)
		swi_log(ctx, SWI_LOG_INFO, "%s: CMS signature verified", SIG_NAME);
	CMS_ContentInfo_free(cms);
	X509_STORE_free(store);
	BIO_free(content);
	BIO_free(sig_bio);
	return rc;
}

int swi_verify_signature(swi_ctx_t *ctx, const void *data, size_t len,
			 const void *sig, size_t siglen)
{
	ERR_clear_error();
	const char *scheme = ctx->opt.signature_scheme;
	struct trust t = { 0 };
	int rc = load_trust(ctx, &t);
	if (rc == SWI_OK)
		rc = check_key_fits_scheme(ctx, &t, scheme);
	if (rc == SWI_OK && (!sig || siglen == 0))
		rc = swi_fail(ctx, SWI_ESIG, "%s: signature is empty", SIG_NAME);
	else if (rc == SWI_OK && t.pkey)
		rc = verify_rsa(ctx, &t, scheme, data, len, sig, siglen);
	else if (rc == SWI_OK)
		rc = verify_cms(ctx, &t, data, len, sig, siglen);
	free_trust(&t);
	ERR_clear_error();
	return rc;
}

/* ---- what a signature is, before anyone verifies it --------------------- */

/* The subject's first common name, or its whole subject when it has none. */
static char *signer_name(X509 *x)
{
	X509_NAME *subject = X509_get_subject_name(x);
	int i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
	unsigned char *cn = NULL;
	int n = i < 0 ? -1 : ASN1_STRING_to_UTF8(&cn, X509_NAME_ENTRY_get_data(
							     X509_NAME_get_entry(subject, i)));
	char *name;
	if (n >= 0) {
		name = strndup((const char *)cn, (size_t)n);
	} else {
		char text[256];
		name = strdup(subject_text(x, text, sizeof(text)));
	}
	OPENSSL_free(cn);
	return name;
}

/* The certificate the signature carries for its first signer, or NULL. */
static X509 *carried_signer(CMS_ContentInfo *cms, STACK_OF(X509) *certs)
{
	STACK_OF(CMS_SignerInfo) *infos = CMS_get0_SignerInfos(cms);
	CMS_SignerInfo *si = sk_CMS_SignerInfo_num(infos) > 0 ?
		sk_CMS_SignerInfo_value(infos, 0) : NULL;
	for (int i = 0; si && i < sk_X509_num(certs); i++)
		if (CMS_SignerInfo_cert_cmp(si, sk_X509_value(certs, i)) == 0)
			return sk_X509_value(certs, i);
	return NULL;
}

int swi_signature_describe(swi_ctx_t *ctx, const void *sig, size_t siglen,
			   const char **kind, char **signer)
{
	*kind = "RSA";
	*signer = NULL;
	if (siglen > INT_MAX)
		return SWI_OK;
	BIO *in = BIO_new_mem_buf(sig, (int)siglen);
	if (!in)
		return swi_fail(ctx, SWI_ENOMEM, "%s: out of memory", SIG_NAME);
	CMS_ContentInfo *cms = d2i_CMS_bio(in, NULL);
	int rc = SWI_OK;
	if (cms) {
		*kind = "CMS";
		STACK_OF(X509) *certs = CMS_get1_certs(cms);
		X509 *x = carried_signer(cms, certs);
		if (x && !(*signer = signer_name(x)))
			rc = swi_fail(ctx, SWI_ENOMEM, "%s: out of memory", SIG_NAME);
		sk_X509_pop_free(certs, X509_free);
	}
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	ERR_clear_error();
	return rc;
}
