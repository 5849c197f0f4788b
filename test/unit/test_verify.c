/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of lib/verify.c: keys and signatures are made with the openssl
 * CLI in a temporary directory at test time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "verify.h"
#include "testutil.h"

static const char sw_description[] = "software = { version = \"1.0\"; };\n";

/* One shell script makes every key, certificate and signature. */
static const char make_keys[] =
	"set -e\n"
	"exec >/dev/null 2>&1\n"
	"printf 'software = { version = \"1.0\"; };\\n' > sw-description\n"
	"echo 'extendedKeyUsage=emailProtection' > email.ext\n"
	"echo 'extendedKeyUsage=codeSigning' > code.ext\n"
	"ca() { openssl req -x509 -newkey rsa:2048 -nodes -keyout $1.key -out $1.pem -subj /CN=$1 -days 30; }\n"
	"signer() { # name ca ext\n"
	"  openssl req -newkey rsa:2048 -nodes -keyout $1.key -out $1.csr -subj /CN=$1\n"
	"  openssl x509 -req -in $1.csr -CA $2.pem -CAkey $2.key -CAcreateserial -out $1.pem -days 30 -extfile $3\n"
	"}\n"
	"sign() { # signer out [extra cms options]\n"
	"  s=$1; o=$2; shift 2\n"
	"  openssl cms -sign -in sw-description -out $o -signer $s.pem -inkey $s.key -outform DER -nosmimecap -binary \"$@\"\n"
	"}\n"
	"ca ca; ca otherca\n"
	"signer email-signer ca email.ext\n"
	"signer code-signer ca code.ext\n"
	"signer other-signer otherca email.ext\n"
	"openssl req -x509 -newkey rsa:2048 -nodes -keyout self.key -out self.pem -subj /CN=self -days 30 "
	"  -addext extendedKeyUsage=emailProtection\n"
	"sign email-signer email.sig\n"
	"sign email-signer email-noattr.sig -noattr\n"
	"sign code-signer code.sig\n"
	"sign other-signer other.sig\n"
	"sign self self.sig\n"
	"sign self self-nocerts.sig -nocerts\n"
	"cat otherca.pem ca.pem > bundle.pem\n"
	"openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key\n"
	"openssl pkey -in rsa.key -pubout -out rsa.pub\n"
	"openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa2.key\n"
	"openssl pkey -in rsa2.key -pubout -out rsa2.pub\n"
	"openssl dgst -sha256 -sign rsa.key -out rsa.sig sw-description\n"
	"openssl dgst -sha256 -sign rsa.key -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:-2 "
	"  -out pss.sig sw-description\n"
	"openssl dgst -sha256 -sign rsa.key -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest "
	"  -out pss-digest-salt.sig sw-description\n"
	"echo 'this is not PEM' > garbage.pem\n"
	"printf -- '-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----\\n' > badcert.pem\n";

struct fixture {
	char dir[64];
	swi_ctx_t *ctx;
	char *sig;
	size_t siglen;
};

static int run_in(const char *dir, const char *script)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/make-keys.sh", dir);
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(script, f);
	fclose(f);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "cd '%s' && sh make-keys.sh", dir);
	return system(cmd);
}

static int group_setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	if (!fx)
		return -1;
	*state = fx;
	strcpy(fx->dir, "/tmp/test_verify.XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	return run_in(fx->dir, make_keys) == 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
	struct fixture *fx = *state;
	int rc = remove_tree(fx->dir);
	free(fx);
	return rc == 0 ? 0 : -1;
}

static int setup(void **state)
{
	struct fixture *fx = *state;
	fx->sig = NULL;
	fx->siglen = 0;
	return swi_ctx_new(&fx->ctx);
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	swi_ctx_free(fx->ctx);
	free(fx->sig);
	return 0;
}

static void use_key(struct fixture *fx, const char *name)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", fx->dir, name);
	assert_int_equal(swi_set_option(fx->ctx, "public-key", path), SWI_OK);
}

static void load_sig(struct fixture *fx, const char *name)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", fx->dir, name);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fx->sig = malloc(65536);
	assert_non_null(fx->sig);
	fx->siglen = fread(fx->sig, 1, 65536, f);
	fclose(f);
	assert_true(fx->siglen > 0);
}

static int verify_text(struct fixture *fx, const char *text)
{
	return swi_verify_signature(fx->ctx, text, strlen(text), fx->sig, fx->siglen);
}

static int verify(struct fixture *fx, const char *key, const char *sig)
{
	use_key(fx, key);
	load_sig(fx, sig);
	return verify_text(fx, sw_description);
}

static void assert_message_has(struct fixture *fx, const char *part)
{
	if (!strstr(swi_errmsg(fx->ctx), part))
		fail_msg("message '%s' lacks '%s'", swi_errmsg(fx->ctx), part);
}

static void assert_error(struct fixture *fx, int rc, int status, const char *part)
{
	assert_int_equal(rc, status);
	assert_message_has(fx, part);
}

static void cms_good(void **state)
{
	assert_int_equal(verify(*state, "ca.pem", "email.sig"), SWI_OK);
}

static void cms_good_noattr(void **state)
{
	assert_int_equal(verify(*state, "ca.pem", "email-noattr.sig"), SWI_OK);
}

static void cms_ca_in_bundle(void **state)
{
	assert_int_equal(verify(*state, "bundle.pem", "email.sig"), SWI_OK);
}

static void cms_self_signed_signer(void **state)
{
	assert_int_equal(verify(*state, "self.pem", "self.sig"), SWI_OK);
}

static void cms_signer_cert_only_in_key_file(void **state)
{
	assert_int_equal(verify(*state, "self.pem", "self-nocerts.sig"), SWI_OK);
}

static void cms_tampered(void **state)
{
	struct fixture *fx = *state;
	use_key(fx, "ca.pem");
	load_sig(fx, "email.sig");
	assert_error(fx, verify_text(fx, "software = { version = \"6.6\"; };\n"), SWI_ESIG,
		     "sw-description.sig: signature does not match sw-description");
}

static void cms_untrusted_signer(void **state)
{
	struct fixture *fx = *state;
	assert_error(fx, verify(fx, "ca.pem", "other.sig"), SWI_ESIG,
		     "sw-description.sig: signer 'CN=other-signer' is not trusted by ");
}

static void cms_code_signer_for_email(void **state)
{
	struct fixture *fx = *state;
	assert_error(fx, verify(fx, "ca.pem", "code.sig"), SWI_ESIG,
		     "signer certificate purpose is not emailProtection");
}

static void cms_email_signer_for_code(void **state)
{
	struct fixture *fx = *state;
	assert_int_equal(swi_set_option(fx->ctx, "cert-purpose", "codeSigning"), SWI_OK);
	assert_error(fx, verify(fx, "ca.pem", "email.sig"), SWI_ESIG,
		     "signer certificate purpose is not codeSigning");
}

static void cms_code_signer_for_code(void **state)
{
	struct fixture *fx = *state;
	assert_int_equal(swi_set_option(fx->ctx, "cert-purpose", "codeSigning"), SWI_OK);
	assert_int_equal(verify(fx, "ca.pem", "code.sig"), SWI_OK);
}

static void cms_untrusted_code_signer(void **state)
{
	struct fixture *fx = *state;
	assert_int_equal(swi_set_option(fx->ctx, "cert-purpose", "codeSigning"), SWI_OK);
	assert_error(fx, verify(fx, "otherca.pem", "code.sig"), SWI_ESIG,
		     "signer 'CN=code-signer' is not trusted by ");
}

static void cms_forced_signer_match(void **state)
{
	struct fixture *fx = *state;
	assert_int_equal(swi_set_option(fx->ctx, "forced-signer-name", "email-signer"), SWI_OK);
	assert_int_equal(verify(fx, "ca.pem", "email.sig"), SWI_OK);
}

static void cms_forced_signer_mismatch(void **state)
{
	struct fixture *fx = *state;
	assert_int_equal(swi_set_option(fx->ctx, "forced-signer-name", "email"), SWI_OK);
	assert_error(fx, verify(fx, "ca.pem", "email.sig"), SWI_ESIG,
		     "signer 'CN=email-signer' is not the forced signer 'email'");
}

static void cms_garbage_signature(void **state)
{
	struct fixture *fx = *state;
	use_key(fx, "ca.pem");
	load_sig(fx, "sw-description");
	assert_error(fx, verify_text(fx, sw_description), SWI_ESIG,
		     "sw-description.sig: not a DER CMS signature");
}

static void cms_empty_signature(void **state)
{
	struct fixture *fx = *state;
	use_key(fx, "ca.pem");
	assert_error(fx, swi_verify_signature(fx->ctx, sw_description, strlen(sw_description), "", 0),
		     SWI_ESIG, "sw-description.sig: signature is empty");
}

static void cms_truncated_signature(void **state)
{
	struct fixture *fx = *state;
	use_key(fx, "ca.pem");
	load_sig(fx, "email.sig");
	fx->siglen /= 2;
	assert_int_equal(verify_text(fx, sw_description), SWI_ESIG);
}

static void rsa_good(void **state)
{
	assert_int_equal(verify(*state, "rsa.pub", "rsa.sig"), SWI_OK);
}

static void rsa_tampered(void **state)
{
	struct fixture *fx = *state;
	use_key(fx, "rsa.pub");
	load_sig(fx, "rsa.sig");
	assert_error(fx, verify_text(fx, "software = {};\n"), SWI_ESIG,
		     "neither RSA PKCS#1 v1.5 nor RSA-PSS");
}

static void rsa_wrong_key(void **state)
{
	struct fixture *fx = *state;
	assert_error(fx, verify(fx, "rsa2.pub", "rsa.sig"), SWI_ESIG,
		     "sw-description.sig: signature does not match sw-description");
}

static void rsa_pss_good(void **state)
{
	assert_int_equal(verify(*state, "rsa.pub", "pss.sig"), SWI_OK);
}

static void rsa_pss_tampered(void **state)
{
	struct fixture *fx = *state;
	use_key(fx, "rsa.pub");
	load_sig(fx, "pss.sig");
	assert_int_equal(verify_text(fx, "software = {};\n"), SWI_ESIG);
}

static void rsa_cms_signature_with_public_key(void **state)
{
	assert_int_equal(verify(*state, "rsa.pub", "email.sig"), SWI_ESIG);
}

static void key_file_missing(void **state)
{
	struct fixture *fx = *state;
	assert_error(fx, verify(fx, "nonexistent.pem", "rsa.sig"), SWI_ECONFIG,
		     "nonexistent.pem: No such file or directory");
}

static void key_file_garbage(void **state)
{
	struct fixture *fx = *state;
	assert_error(fx, verify(fx, "garbage.pem", "rsa.sig"), SWI_ECONFIG,
		     "garbage.pem: holds neither a PEM certificate nor a PEM public key");
}

static void key_file_broken_certificate(void **state)
{
	struct fixture *fx = *state;
	assert_error(fx, verify(fx, "badcert.pem", "email.sig"), SWI_ECONFIG,
		     "badcert.pem: unreadable certificate");
}

static void key_file_private_key(void **state)
{
	struct fixture *fx = *state;
	assert_int_equal(verify(fx, "rsa.key", "rsa.sig"), SWI_ECONFIG);
}

static void key_not_configured(void **state)
{
	struct fixture *fx = *state;
	load_sig(fx, "rsa.sig");
	assert_error(fx, verify_text(fx, sw_description), SWI_ECONFIG, "public-key");
}

/* ---- swi_signature_describe: what a signature is, unverified ---- */

static void describe(struct fixture *fx, const char *sig, const char *kind,
		     const char *signer)
{
	const char *got_kind = NULL;
	char *got_signer = NULL;
	load_sig(fx, sig);
	assert_int_equal(swi_signature_describe(fx->ctx, fx->sig, fx->siglen, &got_kind,
						&got_signer), SWI_OK);
	assert_string_equal(got_kind, kind);
	if (signer)
		assert_string_equal(got_signer, signer);
	else
		assert_null(got_signer);
	free(got_signer);
}

static void describe_cms_names_its_signer(void **state)
{
	describe(*state, "email.sig", "CMS", "email-signer");
}

static void describe_cms_without_certificates(void **state)
{
	describe(*state, "self-nocerts.sig", "CMS", NULL);
}

static void describe_rsa(void **state)
{
	describe(*state, "rsa.sig", "RSA", NULL);
}

/* ---- signature-scheme ---- */

static void use_scheme(struct fixture *fx, const char *scheme)
{
	assert_int_equal(swi_set_option(fx->ctx, "signature-scheme", scheme), SWI_OK);
}

static void scheme_cms_accepts_cms(void **state)
{
	struct fixture *fx = *state;
	use_scheme(fx, "cms");
	assert_int_equal(verify(fx, "ca.pem", "email.sig"), SWI_OK);
}

static void scheme_cms_refuses_raw_rsa(void **state)
{
	struct fixture *fx = *state;
	use_scheme(fx, "cms");
	assert_error(fx, verify(fx, "ca.pem", "rsa.sig"), SWI_ESIG, "not a DER CMS signature");
	free(fx->sig);
	assert_error(fx, verify(fx, "ca.pem", "pss.sig"), SWI_ESIG, "not a DER CMS signature");
}

static void scheme_rsa_accepts_pkcs1(void **state)
{
	struct fixture *fx = *state;
	use_scheme(fx, "rsa");
	assert_int_equal(verify(fx, "rsa.pub", "rsa.sig"), SWI_OK);
}

static void scheme_rsa_refuses_pss_and_cms(void **state)
{
	struct fixture *fx = *state;
	use_scheme(fx, "rsa");
	assert_error(fx, verify(fx, "rsa.pub", "pss.sig"), SWI_ESIG,
		     "(signature-scheme rsa takes only RSA PKCS#1 v1.5 with SHA-256");
	free(fx->sig);
	assert_error(fx, verify(fx, "rsa.pub", "email.sig"), SWI_ESIG,
		     "signature-scheme rsa takes only RSA PKCS#1 v1.5");
}

/* The salt length is read from the signature, as SWUpdate's verifier does. */
static void scheme_rsa_pss_accepts_pss(void **state)
{
	struct fixture *fx = *state;
	use_scheme(fx, "rsa-pss");
	assert_int_equal(verify(fx, "rsa.pub", "pss.sig"), SWI_OK);
	free(fx->sig);
	assert_int_equal(verify(fx, "rsa.pub", "pss-digest-salt.sig"), SWI_OK);
}

static void scheme_rsa_pss_refuses_pkcs1_and_cms(void **state)
{
	struct fixture *fx = *state;
	use_scheme(fx, "rsa-pss");
	assert_error(fx, verify(fx, "rsa.pub", "rsa.sig"), SWI_ESIG,
		     "(signature-scheme rsa-pss takes only RSA-PSS with SHA-256");
	free(fx->sig);
	assert_error(fx, verify(fx, "rsa.pub", "email.sig"), SWI_ESIG,
		     "signature-scheme rsa-pss takes only RSA-PSS");
}

static void scheme_rsa_pss_tampered(void **state)
{
	struct fixture *fx = *state;
	use_scheme(fx, "rsa-pss");
	use_key(fx, "rsa.pub");
	load_sig(fx, "pss.sig");
	assert_int_equal(verify_text(fx, "software = {};\n"), SWI_ESIG);
}

static void scheme_cms_with_public_key(void **state)
{
	struct fixture *fx = *state;
	use_scheme(fx, "cms");
	assert_error(fx, verify(fx, "rsa.pub", "email.sig"), SWI_ECONFIG,
		     "signature-scheme cms needs certificates (PEM) as public-key, but ");
	assert_message_has(fx, "rsa.pub holds an RSA public key");
}

static void scheme_rsa_with_certificate(void **state)
{
	struct fixture *fx = *state;
	static const char *const schemes[] = { "rsa", "rsa-pss" };
	for (size_t i = 0; i < 2; i++) {
		use_scheme(fx, schemes[i]);
		free(fx->sig);
		assert_error(fx, verify(fx, "ca.pem", "rsa.sig"), SWI_ECONFIG,
			     "needs an RSA public key (PEM) as public-key, but ");
		assert_message_has(fx, schemes[i]);
		assert_message_has(fx, "ca.pem holds certificates");
	}
}

static void scheme_bad_value(void **state)
{
	struct fixture *fx = *state;
	use_scheme(fx, "rsa");
	static const char *const bad[] = { "gpg", "RSA", "", "rsa-pkcs1" };
	for (size_t i = 0; i < 4; i++) {
		assert_error(fx, swi_set_option(fx->ctx, "signature-scheme", bad[i]), SWI_EINVAL,
			     "is not one of cms, rsa, rsa-pss");
		assert_string_equal(swi_get_option(fx->ctx, "signature-scheme"), "rsa");
	}
}

/* Unset again, the key decides: both RSA paddings verify. */
static void scheme_reset_to_key_choice(void **state)
{
	struct fixture *fx = *state;
	use_scheme(fx, "rsa");
	use_scheme(fx, NULL);
	assert_int_equal(verify(fx, "rsa.pub", "pss.sig"), SWI_OK);
	free(fx->sig);
	assert_int_equal(verify(fx, "rsa.pub", "rsa.sig"), SWI_OK);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(cms_good), T(cms_good_noattr), T(cms_ca_in_bundle), T(cms_self_signed_signer),
		T(cms_signer_cert_only_in_key_file), T(cms_tampered), T(cms_untrusted_signer),
		T(cms_code_signer_for_email), T(cms_email_signer_for_code),
		T(cms_code_signer_for_code), T(cms_untrusted_code_signer), T(cms_forced_signer_match),
		T(cms_forced_signer_mismatch), T(cms_garbage_signature), T(cms_empty_signature),
		T(cms_truncated_signature), T(rsa_good), T(rsa_tampered), T(rsa_wrong_key),
		T(rsa_pss_good), T(rsa_pss_tampered), T(rsa_cms_signature_with_public_key),
		T(key_file_missing), T(key_file_garbage), T(key_file_broken_certificate),
		T(key_file_private_key),
		T(key_not_configured),
		T(describe_cms_names_its_signer), T(describe_cms_without_certificates),
		T(describe_rsa),
		T(scheme_cms_accepts_cms), T(scheme_cms_refuses_raw_rsa), T(scheme_rsa_accepts_pkcs1),
		T(scheme_rsa_refuses_pss_and_cms), T(scheme_rsa_pss_accepts_pss),
		T(scheme_rsa_pss_refuses_pkcs1_and_cms), T(scheme_rsa_pss_tampered),
		T(scheme_cms_with_public_key), T(scheme_rsa_with_certificate), T(scheme_bad_value),
		T(scheme_reset_to_key_choice),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
