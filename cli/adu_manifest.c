/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * swinstall manifest: an Azure Device Update import manifest (schema 5.0)
 * for a .swu image, to be uploaded with the image. One inline step for the
 * microsoft/swupdate:2 step handler of the Device Update agent.
 *
 * The limits checked below are the ones Device Update's import manifest
 * schema documents; an import that breaks one is refused by the service, so
 * we refuse it here first, naming the argument.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <swinstall.h>
#include "adu_manifest.h"

enum { MANIFEST_OK = 0, MANIFEST_IO = 1, MANIFEST_USAGE = 2, MANIFEST_NOT_SWU = 3 };

/* Device Update's documented limits, in our words:
 * - provider and name: 1 to 64 characters, letters, digits, '.' and '-';
 * - version: two to four dot-separated numbers, each 0..2147483647;
 * - compatibility: 1 to 10 property sets, each of 1 to 5 properties whose
 *   names are 1 to 32 and values 1 to 64 characters long;
 * - files: at most 10 payload files, each of 1 byte to 2 GiB and 2 GB in
 *   all, each name 1 to 255 characters and unique in the update. */
#define ID_PART_MAX 64
#define VERSION_PARTS_MIN 2
#define VERSION_PARTS_MAX 4
#define VERSION_PART_MAX 2147483647UL
#define COMPAT_SETS_MAX 10
#define COMPAT_PROPS_MAX 5
#define COMPAT_NAME_MAX 32
#define COMPAT_VALUE_MAX 64
#define FILES_MAX 10
#define FILES_TOTAL_MAX (2ULL * 1024 * 1024 * 1024)
#define FILE_SIZE_MAX FILES_TOTAL_MAX

struct payload {
	const char *path;
	const char *option;      /* the argument that named it, for messages */
	const char *filename;    /* the name Device Update knows it by */
	uint64_t size;
	char sha256[45];         /* base64 of the 32-byte digest */
};

struct manifest_args {
	const char *provider, *name, *version, *arguments;
	const char *compat[COMPAT_SETS_MAX];
	size_t ncompat;
	const char *script;      /* scriptFileName's file, also a payload */
	struct payload files[FILES_MAX];
	size_t nfiles;           /* files[0] is the .swu */
};

static const char manifest_usage[] =
	"Usage: swinstall manifest FILE.swu --provider P --name N [--version V]\n"
	"                          --compat K=V[,K=V...] [--compat ...]\n"
	"                          [--script FILE] [--arguments ARGS] [--file FILE]...\n"
	"Print an Azure Device Update import manifest (schema 5.0) for the image on\n"
	"standard output: one step for the microsoft/swupdate:2 handler, the .swu and\n"
	"the other files with their sizes and SHA-256 hashes.\n"
	"\n"
	"  --provider P     update provider: letters, digits, '.', '-'; at most 64\n"
	"  --name N         update name: the same characters; at most 64\n"
	"  --version V      2 to 4 dot-separated numbers (e.g. 1.2.0); also the\n"
	"                   handler's installedCriteria (default: the version in the\n"
	"                   image's sw-description)\n"
	"  --compat K=V,..  one compatibility property set (1 to 5 properties, names\n"
	"                   of at most 32, values of at most 64 characters); up to 10\n"
	"  --script FILE    the A/B update script the handler runs (scriptFileName)\n"
	"  --arguments A    arguments the handler passes on (handlerProperties.arguments)\n"
	"  --file FILE      another file the step delivers; at most 10 files in all\n"
	"  -h, --help       this text\n"
	"Exit status: 0 printed, 1 a file could not be read, 2 an argument breaks a\n"
	"Device Update limit, 3 FILE.swu is not a .swu image (or a malformed one).\n"
	"The image is read once, as swinstall info reads it; no configuration and no\n"
	"key are used, and a signature is not verified.\n";

static int refuse(const char *fmt, ...)
{
	va_list ap;
	fputs("swinstall manifest: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return MANIFEST_USAGE;
}

static int check_id_part(const char *option, const char *value)
{
	size_t len = strlen(value);
	if (len == 0 || len > ID_PART_MAX)
		return refuse("%s '%s': must be 1 to %d characters long (it has %zu)",
			      option, value, ID_PART_MAX, len);
	for (const char *c = value; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '.' && *c != '-')
			return refuse("%s '%s': '%c' is not allowed (only letters, digits, "
				      "'.' and '-')", option, value, *c);
	return MANIFEST_OK;
}

static int check_version(const char *option, const char *version)
{
	int parts = 0;
	const char *c = version;
	for (;;) {
		const char *start = c;
		while (isdigit((unsigned char)*c))
			c++;
		if (c == start || c - start > 10 ||
		    strtoul(start, NULL, 10) > VERSION_PART_MAX)
			return refuse("%s '%s': each part must be a number from 0 to %lu",
				      option, version, VERSION_PART_MAX);
		parts++;
		if (*c == '\0')
			break;
		if (*c++ != '.')
			return refuse("%s '%s': only digits and dots are allowed", option,
				      version);
	}
	if (parts < VERSION_PARTS_MIN || parts > VERSION_PARTS_MAX)
		return refuse("%s '%s': must have %d to %d dot-separated parts (it has %d)",
			      option, version, VERSION_PARTS_MIN, VERSION_PARTS_MAX, parts);
	return MANIFEST_OK;
}

/* One K=V of a --compat set, added to props. */
static int add_compat_property(const char *set, const char *pair, json_object *props)
{
	const char *eq = strchr(pair, '=');
	if (!eq)
		return refuse("--compat '%s': '%s' is not NAME=VALUE", set, pair);
	size_t name_len = (size_t)(eq - pair), value_len = strlen(eq + 1);
	if (name_len == 0 || name_len > COMPAT_NAME_MAX)
		return refuse("--compat '%s': property name '%.*s' must be 1 to %d characters",
			      set, (int)name_len, pair, COMPAT_NAME_MAX);
	if (value_len == 0 || value_len > COMPAT_VALUE_MAX)
		return refuse("--compat '%s': value of '%.*s' must be 1 to %d characters",
			      set, (int)name_len, pair, COMPAT_VALUE_MAX);
	char name[COMPAT_NAME_MAX + 1];
	memcpy(name, pair, name_len);
	name[name_len] = '\0';
	if (json_object_object_get_ex(props, name, NULL))
		return refuse("--compat '%s': property '%s' is given twice", set, name);
	json_object_object_add(props, name, json_object_new_string(eq + 1));
	return MANIFEST_OK;
}

static int compat_object(const char *set, json_object **out)
{
	char *copy = strdup(set);
	json_object *props = json_object_new_object();
	int rc = copy && props ? MANIFEST_OK : refuse("out of memory");
	char *save = NULL;
	for (char *pair = copy ? strtok_r(copy, ",", &save) : NULL; pair && rc == MANIFEST_OK;
	     pair = strtok_r(NULL, ",", &save))
		rc = add_compat_property(set, pair, props);
	if (rc == MANIFEST_OK && json_object_object_length(props) == 0)
		rc = refuse("--compat '%s': needs at least one NAME=VALUE", set);
	if (rc == MANIFEST_OK && json_object_object_length(props) > COMPAT_PROPS_MAX)
		rc = refuse("--compat '%s': at most %d properties in one set (it has %d)",
			    set, COMPAT_PROPS_MAX, json_object_object_length(props));
	free(copy);
	if (rc != MANIFEST_OK)
		json_object_put(props);
	else
		*out = props;
	return rc;
}

/* Every byte of a file passes through here once: counted and hashed on its
 * way to the reader (swi_info_read for the image). */
struct hashing_reader {
	int fd;
	EVP_MD_CTX *md;
	uint64_t size;
	bool hash_failed;
};

static ssize_t read_and_hash(void *user, void *buf, size_t len)
{
	struct hashing_reader *r = user;
	ssize_t n;
	do
		n = read(r->fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		r->size += (uint64_t)n;
		r->hash_failed |= EVP_DigestUpdate(r->md, buf, (size_t)n) != 1;
	}
	return n;
}

/* What swi_info_read refused the image for, as our exit status. */
static int image_refused(const struct payload *p, swi_ctx_t *ctx, int status)
{
	fprintf(stderr, "swinstall manifest: %s %s: not a usable .swu image: %s\n", p->option,
		p->path, swi_errmsg(ctx));
	return status == SWI_EIO ? MANIFEST_IO : status == SWI_EINVAL || status == SWI_ECONFIG
	       ? MANIFEST_USAGE : MANIFEST_NOT_SWU;
}

/* Reads the file once for its size and SHA-256. With info, the file is the
 * image: swi_info_read sees the same bytes and fills info (its version is
 * the default of --version). */
static int measure(struct payload *p, swi_ctx_t *ctx, struct swi_info *info)
{
	struct hashing_reader r = { .fd = open(p->path, O_RDONLY | O_CLOEXEC) };
	if (r.fd < 0) {
		fprintf(stderr, "swinstall manifest: %s %s: %s\n", p->option, p->path,
			strerror(errno));
		return MANIFEST_IO;
	}
	unsigned char buf[65536], digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len = 0;
	ssize_t n = 0;
	int rc = MANIFEST_OK;
	r.md = EVP_MD_CTX_new();
	r.hash_failed = !r.md || EVP_DigestInit_ex(r.md, EVP_sha256(), NULL) != 1;
	if (!r.hash_failed && info) {
		int status = swi_info_read(ctx, read_and_hash, &r, info);
		if (status != SWI_OK && status != SWI_ESIG)
			rc = image_refused(p, ctx, status);
	}
	/* The rest of the file (all of it when it is not the image). */
	while (rc == MANIFEST_OK && !r.hash_failed && (n = read_and_hash(&r, buf, sizeof(buf))) > 0)
		;
	if (rc == MANIFEST_OK && (n < 0 || r.hash_failed ||
				  EVP_DigestFinal_ex(r.md, digest, &digest_len) != 1)) {
		fprintf(stderr, "swinstall manifest: %s %s: cannot read or hash it: %s\n", p->option,
			p->path, n < 0 ? strerror(errno) : "OpenSSL failed");
		rc = MANIFEST_IO;
	}
	p->size = r.size;
	if (rc == MANIFEST_OK && (p->size == 0 || p->size > FILE_SIZE_MAX)) {
		fprintf(stderr, "swinstall manifest: %s %s: %" PRIu64 " bytes; Device Update takes "
			"files of 1 byte to 2 GiB\n", p->option, p->path, p->size);
		rc = MANIFEST_USAGE;
	}
	if (rc == MANIFEST_OK)
		EVP_EncodeBlock((unsigned char *)p->sha256, digest, (int)digest_len);
	EVP_MD_CTX_free(r.md);
	close(r.fd);
	return rc;
}

static int add_file(struct manifest_args *a, const char *option, const char *path)
{
	if (a->nfiles == FILES_MAX)
		return refuse("%s %s: at most %d files in one update", option, path, FILES_MAX);
	const char *slash = strrchr(path, '/');
	const char *filename = slash ? slash + 1 : path;
	/* Names of 1 to 255 characters are all Device Update takes; Linux
	 * (NAME_MAX) has no longer ones, so only the empty name is left. */
	if (*filename == '\0')
		return refuse("%s %s: names a directory, not a file", option, path);
	for (size_t i = 0; i < a->nfiles; i++)
		if (strcmp(a->files[i].filename, filename) == 0)
			return refuse("%s %s: a file named '%s' is in the update already",
				      option, path, filename);
	a->files[a->nfiles++] = (struct payload){ .path = path, .option = option,
						  .filename = filename };
	return MANIFEST_OK;
}

enum { OPT_PROVIDER = 256, OPT_NAME, OPT_VERSION, OPT_COMPAT, OPT_FILE, OPT_SCRIPT,
       OPT_ARGUMENTS };

static const struct option manifest_options[] = {
	{ "provider", required_argument, NULL, OPT_PROVIDER },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "version", required_argument, NULL, OPT_VERSION },
	{ "compat", required_argument, NULL, OPT_COMPAT },
	{ "file", required_argument, NULL, OPT_FILE },
	{ "script", required_argument, NULL, OPT_SCRIPT },
	{ "arguments", required_argument, NULL, OPT_ARGUMENTS },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Extra files are kept aside so that the .swu is files[0] whatever the
 * order of the arguments. */
static int parse_option(struct manifest_args *a, int c, const char **extra, size_t *nextra)
{
	switch (c) {
	case OPT_PROVIDER: a->provider = optarg; return MANIFEST_OK;
	case OPT_NAME: a->name = optarg; return MANIFEST_OK;
	case OPT_VERSION: a->version = optarg; return MANIFEST_OK;
	case OPT_ARGUMENTS: a->arguments = optarg; return MANIFEST_OK;
	case OPT_SCRIPT: a->script = optarg; return MANIFEST_OK;
	case OPT_COMPAT:
		if (a->ncompat == COMPAT_SETS_MAX)
			return refuse("--compat %s: at most %d compatibility sets", optarg,
				      COMPAT_SETS_MAX);
		a->compat[a->ncompat++] = optarg;
		return MANIFEST_OK;
	case OPT_FILE:
		if (*nextra == FILES_MAX)
			return refuse("--file %s: at most %d files in one update", optarg, FILES_MAX);
		extra[(*nextra)++] = optarg;
		return MANIFEST_OK;
	default:
		fputs(manifest_usage, stderr);
		return MANIFEST_USAGE;
	}
}

static int parse_manifest_args(struct manifest_args *a, int argc, char **argv)
{
	const char *extra[FILES_MAX];
	size_t nextra = 0;
	int c, rc = MANIFEST_OK;
	optind = 1;
	while (rc == MANIFEST_OK && (c = getopt_long(argc, argv, "h", manifest_options, NULL)) != -1) {
		if (c == 'h') {
			fputs(manifest_usage, stdout);
			return -1;
		}
		rc = parse_option(a, c, extra, &nextra);
	}
	if (rc != MANIFEST_OK)
		return rc;
	if (argc - optind != 1)
		return refuse("needs exactly one image (manifest FILE.swu ...)");
	if (!a->provider || !a->name || a->ncompat == 0)
		return refuse("--provider, --name and at least one --compat are needed");
	if ((rc = check_id_part("--provider", a->provider)) ||
	    (rc = check_id_part("--name", a->name)) ||
	    (a->version && (rc = check_version("--version", a->version))))
		return rc;
	if ((rc = add_file(a, "image", argv[optind])) ||
	    (a->script && (rc = add_file(a, "--script", a->script))))
		return rc;
	for (size_t i = 0; i < nextra && rc == MANIFEST_OK; i++)
		rc = add_file(a, "--file", extra[i]);
	return rc;
}

static json_object *string_array(const struct payload *files, size_t n)
{
	json_object *array = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(array, json_object_new_string(files[i].filename));
	return array;
}

static json_object *step(const struct manifest_args *a)
{
	json_object *props = json_object_new_object();
	json_object_object_add(props, "installedCriteria", json_object_new_string(a->version));
	json_object_object_add(props, "swuFileName", json_object_new_string(a->files[0].filename));
	if (a->script)
		json_object_object_add(props, "scriptFileName",
				       json_object_new_string(a->files[1].filename));
	if (a->arguments)
		json_object_object_add(props, "arguments", json_object_new_string(a->arguments));
	json_object *s = json_object_new_object();
	json_object_object_add(s, "handler", json_object_new_string("microsoft/swupdate:2"));
	json_object_object_add(s, "files", string_array(a->files, a->nfiles));
	json_object_object_add(s, "handlerProperties", props);
	json_object *steps = json_object_new_array();
	json_object_array_add(steps, s);
	json_object *instructions = json_object_new_object();
	json_object_object_add(instructions, "steps", steps);
	return instructions;
}

static json_object *file_list(const struct manifest_args *a)
{
	json_object *array = json_object_new_array();
	for (size_t i = 0; i < a->nfiles; i++) {
		json_object *f = json_object_new_object(), *hashes = json_object_new_object();
		json_object_object_add(f, "filename", json_object_new_string(a->files[i].filename));
		json_object_object_add(f, "sizeInBytes", json_object_new_int64((int64_t)a->files[i].size));
		json_object_object_add(hashes, "sha256", json_object_new_string(a->files[i].sha256));
		json_object_object_add(f, "hashes", hashes);
		json_object_array_add(array, f);
	}
	return array;
}

static void print_manifest(const struct manifest_args *a, json_object *compat)
{
	char created[32];
	time_t now = time(NULL);
	struct tm utc;
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &utc));
	json_object *id = json_object_new_object();
	json_object_object_add(id, "provider", json_object_new_string(a->provider));
	json_object_object_add(id, "name", json_object_new_string(a->name));
	json_object_object_add(id, "version", json_object_new_string(a->version));
	json_object *m = json_object_new_object();
	json_object_object_add(m, "updateId", id);
	json_object_object_add(m, "compatibility", compat);
	json_object_object_add(m, "instructions", step(a));
	json_object_object_add(m, "files", file_list(a));
	json_object_object_add(m, "manifestVersion", json_object_new_string("5.0"));
	json_object_object_add(m, "createdDateTime", json_object_new_string(created));
	printf("%s\n", json_object_to_json_string_ext(m, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
						      JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(m);
}

/* --version, or else the version sw-description gives the image. */
static int settle_version(struct manifest_args *a, const struct swi_info *info)
{
	if (a->version)
		return MANIFEST_OK;
	if (!info->version)
		return refuse("--version is needed: the sw-description of %s gives no version",
			      a->files[0].path);
	a->version = info->version;
	return check_version("--version (the version of sw-description)", a->version);
}

static int compatibility(const struct manifest_args *a, json_object **out)
{
	json_object *compat = json_object_new_array();
	int rc = MANIFEST_OK;
	for (size_t i = 0; i < a->ncompat && rc == MANIFEST_OK; i++) {
		json_object *set = NULL;
		rc = compat_object(a->compat[i], &set);
		if (rc == MANIFEST_OK)
			json_object_array_add(compat, set);
	}
	if (rc != MANIFEST_OK)
		json_object_put(compat);
	else
		*out = compat;
	return rc;
}

static int measure_all(struct manifest_args *a, swi_ctx_t *ctx, struct swi_info *info)
{
	uint64_t total = 0;
	int rc = MANIFEST_OK;
	for (size_t i = 0; i < a->nfiles && rc == MANIFEST_OK; i++) {
		rc = measure(&a->files[i], ctx, i == 0 ? info : NULL);
		total += a->files[i].size;
	}
	if (rc == MANIFEST_OK && total > FILES_TOTAL_MAX)
		rc = refuse("the files come to %" PRIu64 " bytes; Device Update takes at most "
			    "2 GB in one update", total);
	return rc;
}

int cli_adu_manifest(int argc, char **argv)
{
	struct manifest_args a = { 0 };
	int rc = parse_manifest_args(&a, argc, argv);
	if (rc < 0)
		return MANIFEST_OK;
	json_object *compat = NULL;
	if (rc != MANIFEST_OK || (rc = compatibility(&a, &compat)) != MANIFEST_OK)
		return rc;
	swi_ctx_t *ctx = NULL;
	struct swi_info info = { 0 };
	if (swi_ctx_new(&ctx) != SWI_OK)
		rc = refuse("out of memory");
	if (rc == MANIFEST_OK)
		rc = measure_all(&a, ctx, &info);
	if (rc == MANIFEST_OK)
		rc = settle_version(&a, &info);
	if (rc == MANIFEST_OK)
		print_manifest(&a, compat);
	else
		json_object_put(compat);
	swi_info_free(&info);
	swi_ctx_free(ctx);
	return rc;
}
