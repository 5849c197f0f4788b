#!/bin/sh
# The stable C API's packaging: what libswinstall.so exports (against the
# committed list and the public headers), the version numbers, the man
# page's example, and a program built with pkg-config after `make install`.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(dirname "$SWINSTALL")
SHARED="$BUILD/libswinstall.so"
LIST="$ROOT/test/abi/exported-symbols.txt"
HEADERS="$ROOT/include/swinstall.h $ROOT/include/swinstall/handler.h"
CC=${CC:-cc}
# A library built with SANITIZE=1 (make check-asan) needs its programs
# built so too: the sanitizer's runtime must be loaded first.
SAN_FLAGS=
if readelf -d "$BUILD/libswinstall.so" 2>/dev/null | grep -q 'NEEDED.*libasan'; then
	SAN_FLAGS="-fsanitize=address,undefined"
fi

t_init
[ -f "$SHARED" ] || t_skip_all "no $SHARED (run make first)"
command -v nm >/dev/null 2>&1 || t_skip_all "nm (binutils) not installed"

# The functions the shared library defines and exports, one a line, sorted:
# nm prints them as "swi_x@@SWINSTALL_0"; the version node itself is an
# absolute symbol ("A"), not a function.
exported() {
	nm -D --defined-only "$SHARED" | awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' | sort
}

# The functions the public headers declare: prototypes start a line with
# their return type, the name follows directly before "(".
declared() {
	# shellcheck disable=SC2086
	cat $HEADERS | sed -n 's/^[a-z][a-z0-9_ *]*[ *]\(swi_[a-z0-9_]*\)(.*/\1/p' | sort
}

# differ A B ONLY_IN_A ONLY_IN_B: true when the sorted lists A and B
# differ; the reason then names, under each heading, what only one holds.
differ() {
	comm -23 "$1" "$2" >only-a.txt
	comm -13 "$1" "$2" >only-b.txt
	[ -s only-a.txt ] || [ -s only-b.txt ] || return 1
	for side in "a:$3" "b:$4"; do
		[ -s "only-${side%%:*}.txt" ] || continue
		echo "${side#*:}" >>"$T_REASON"
		sed 's/^/    /' "only-${side%%:*}.txt" >>"$T_REASON"
	done
}

case_exports_match_list() {
	exported >exported.txt
	[ -s exported.txt ] || fail "nm found nothing exported in $SHARED"
	sort "$LIST" >list.txt
	if differ exported.txt list.txt "exported by $SHARED, not in test/abi/exported-symbols.txt:" \
		"in test/abi/exported-symbols.txt, not exported by $SHARED:"; then
		fail "A change of the ABI is a decision: update lib/libswinstall.map and the list;" \
			"a removal or an incompatible change also bumps SONAME_MAJOR in the Makefile."
	fi
}

case_exports_match_headers() {
	exported >exported.txt
	declared >declared.txt
	[ -s declared.txt ] || fail "no swi_ prototype found in $HEADERS"
	! differ declared.txt exported.txt \
		"declared in the public headers, not exported (add to lib/libswinstall.map):" \
		"exported, declared in no public header (private: drop from lib/libswinstall.map):" ||
		exit 1
}

# header_macro NAME: the value #define NAME has in include/swinstall.h.
header_macro() {
	sed -n "s/^#define $1 *//p" "$ROOT/include/swinstall.h" | tr -d '"'
}

# make_var NAME: the value NAME := ... has in the Makefile.
make_var() {
	sed -n "s/^$1 *:= *//p" "$ROOT/Makefile"
}

case_versions_agree() {
	major=$(header_macro SWI_VERSION_MAJOR)
	minor=$(header_macro SWI_VERSION_MINOR)
	patch=$(header_macro SWI_VERSION_PATCH)
	string=$(header_macro SWI_VERSION_STRING)
	if [ -z "$major" ] || [ -z "$minor" ] || [ -z "$patch" ]; then
		fail "include/swinstall.h lacks SWI_VERSION_MAJOR, _MINOR or _PATCH"
	fi
	[ "$string" = "$major.$minor.$patch" ] ||
		fail "SWI_VERSION_STRING is '$string', the numbers say $major.$minor.$patch"
	[ "$(make_var VERSION)" = "$string" ] ||
		fail "the Makefile's VERSION is '$(make_var VERSION)', include/swinstall.h says $string"
	grep -q "^\.TH LIBSWINSTALL 3 .* \"libswinstall $string\"" "$ROOT/lib/libswinstall.3" ||
		fail "the title line of lib/libswinstall.3 does not give libswinstall $string"
	soname=$(readelf -d "$SHARED" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
	[ "$soname" = "libswinstall.so.$(make_var SONAME_MAJOR)" ] ||
		fail "the SONAME is '$soname', not libswinstall.so.$(make_var SONAME_MAJOR) (Makefile SONAME_MAJOR)"
	grep -q "Its soname is $soname\." "$ROOT/lib/libswinstall.3" ||
		fail "lib/libswinstall.3 (section ABI) does not give the soname $soname"
}

case_man_page_lists_functions() {
	sed -n 's/^[a-z][a-z0-9_ *]*[ *]\(swi_[a-z0-9_]*\)(.*/\1/p' "$ROOT/include/swinstall.h" |
		sort >functions.txt
	: >undocumented.txt
	while read -r f; do
		grep -q "^\.BI \"[^\"]*[ *]$f(" "$ROOT/lib/libswinstall.3" || echo "$f" >>undocumented.txt
	done <functions.txt
	[ -s undocumented.txt ] || return 0
	{
		echo "functions of include/swinstall.h without an entry (.BI \"... NAME(...\") in lib/libswinstall.3:"
		sed 's/^/    /' undocumented.txt
	} >"$T_REASON"
	exit 1
}

# The man page's EXAMPLE, between the roff comments example-begin and
# example-end, with the roff escapes (\e, \-) turned back into C.
example_source() {
	sed -n '/^\.\\" example-begin$/,/^\.\\" example-end$/p' "$ROOT/lib/libswinstall.3" |
		sed '1d;$d' | sed 's/\\e/\\/g; s/\\-/-/g'
}

case_man_page_example_runs() {
	example_source >example.c
	[ -s example.c ] || fail "no example between the example-begin and example-end markers of lib/libswinstall.3"
	# shellcheck disable=SC2086
	"$CC" $SAN_FLAGS -std=c11 -Wall -Wextra -Werror -I"$ROOT/include" -o example example.c \
		-L"$BUILD" -lswinstall -Wl,-rpath,"$BUILD" ||
		fail "the man page's example does not compile and link against $BUILD"
	# swdesc_ab names devices in $DEV; info touches none, so it need not exist.
	# shellcheck disable=SC2034
	DEV="$CASE/dev"
	ab_image tiny.swu none newc 4K || fail "could not build the image"
	./example tiny.swu >out.txt 2>err.txt || fail "the example failed on tiny.swu: $(cat err.txt)"
	grep -qx "libswinstall $(header_macro SWI_VERSION_STRING)" out.txt ||
		fail "swi_version() does not give SWI_VERSION_STRING: $(head -n 1 out.txt)"
	grep -qx "image version 2.0.0" out.txt || fail "no image version in: $(cat out.txt)"
	for place in stable,copy1 stable,copy2; do
		grep -qx "$place: raw rootfs.img" out.txt || fail "no entry of $place in: $(cat out.txt)"
	done
	! ./example missing.swu 2>err.txt || fail "the example succeeded on a missing image"
	grep -q "missing.swu" err.txt || fail "no error naming the file: $(cat err.txt)"
}

cat >"$TMP/program.c" <<'PROG'
#include <stdio.h>
#include <string.h>
#include <swinstall.h>
#include <swinstall/handler.h>

int main(void)
{
	swi_ctx_t *ctx;
	uint64_t size = 0;
	if (strcmp(swi_version(), SWI_VERSION_STRING) != 0 || swi_ctx_new(&ctx) != SWI_OK)
		return 1;
	int rc = swi_set_option(ctx, "select", "stable,copy2");
	const char *selection = swi_get_option(ctx, "select");
	swi_ctx_free(ctx);
	if (rc != SWI_OK || !selection || swi_parse_size("8K", &size) != SWI_OK || size != 8192)
		return 1;
	printf("%s\n", swi_strerror(SWI_EHASH));
	return 0;
}
PROG

# After `make install DESTDIR=... PREFIX=/usr`, a program built with
# pkg-config's flags links and runs: shared, and static with --static.
case_installed_pkg_config() {
	command -v pkg-config >/dev/null 2>&1 || fail "pkg-config not installed (make deps)"
	dest="$CASE/root"
	make -s -C "$ROOT" BUILD="$BUILD" DESTDIR="$dest" PREFIX=/usr install >make.log 2>&1 ||
		fail "make install into $dest failed: $(tail -n 3 make.log)"
	for f in usr/include/swinstall.h usr/include/swinstall/handler.h usr/lib/libswinstall.so.0 \
		usr/lib/libswinstall.a usr/lib/pkgconfig/libswinstall.pc usr/share/man/man3/libswinstall.3; do
		[ -e "$dest/$f" ] || fail "make install did not install /$f"
	done
	export PKG_CONFIG_PATH="$dest/usr/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$dest"
	# shellcheck disable=SC2046,SC2086
	"$CC" $SAN_FLAGS -o program "$TMP/program.c" $(pkg-config --cflags --libs libswinstall) ||
		fail "a program does not build with pkg-config --cflags --libs libswinstall"
	LD_LIBRARY_PATH="$dest/usr/lib" ./program >out.txt || fail "the program built against the installed library failed"
	grep -q . out.txt || fail "the program printed nothing"
	LD_LIBRARY_PATH="$dest/usr/lib" ldd ./program | grep -q "$dest/usr/lib/libswinstall.so.0" ||
		fail "the program does not load the installed libswinstall.so.0"
	# The archive in place of -lswinstall, then what it needs, which only
	# the .pc file's Requires.private and Libs.private tell.
	# shellcheck disable=SC2046,SC2086
	"$CC" $SAN_FLAGS -o program-static "$TMP/program.c" $(pkg-config --cflags libswinstall) \
		"$dest/usr/lib/libswinstall.a" \
		$(pkg-config --static --libs libswinstall | sed 's/ -lswinstall\( \|$\)/ /') ||
		fail "a program does not link libswinstall.a with pkg-config --static --libs"
	! ldd ./program-static | grep -q libswinstall ||
		fail "the program linked with libswinstall.a still needs libswinstall.so"
	./program-static >/dev/null || fail "the program linked with libswinstall.a failed"
}

run_case "libswinstall.so exports what test/abi/exported-symbols.txt lists" case_exports_match_list
run_case "libswinstall.so exports exactly the functions of the public headers" case_exports_match_headers
run_case "SWI_VERSION_* agree with each other, the Makefile, the man page and the soname" case_versions_agree
run_case "libswinstall.3 documents every function of swinstall.h" case_man_page_lists_functions
run_case "libswinstall.3's example compiles, links and runs on a tiny image" case_man_page_example_runs
run_case "after make install, pkg-config builds a program that runs (shared and static)" case_installed_pkg_config
t_done
