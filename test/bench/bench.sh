#!/bin/sh
# Speed and memory of swinstall against Debian's swupdate and against the
# physical limits (the plain tools doing the same work), in one run.
#
# Usage: sh test/bench/bench.sh BUILD_DIR      (make bench does this)
#   BENCH_MIB=1024     size of the main images (decoded), MiB
#   BENCH_RUNS=5       timed runs of every command; the table shows medians
#   BENCH_BIG_MIB=4096 size of the memory-scaling image (0: skip that row)
#
# Rows:
#   raw       CMS-signed image, one installed-directly raw entry of
#             incompressible bytes (AES-CTR of zeros, fixed key)
#   zstd/gzip/xz  the same with an ext4 image of BENCH_MIB, filled to ~75%
#             with a cross-section of this machine's /usr (mkfs.ext4 -d,
#             fixed UUID, hash seed and time), compressed with zstd -3,
#             gzip -6 -n, xz -6 -T1: it compresses like a real root file
#             system, where random bytes would make every decoder look instant
#   url       the raw row's image installed from Debian's lighttpd on
#             127.0.0.1 (http; https in the notes), against the same install
#             from the file: "limit" is the file install, "of-limit" file/URL
#   flash     swinstall flash of the xz-compressed ext4 image (a factory image)
#             onto a file, against its sha256
#   startup   a 100 KiB raw image
#   mem       swinstall's peak RSS on a 256 MiB and a BENCH_BIG_MIB raw image
# Physical limits: raw = max(dd of the payload into the target, openssl dgst
# -sha256 of the image); zstd = zstd -dc | dd into the target; gzip = gzip -dc
# to /dev/null; xz = xz -dc to /dev/null; flash = xz -dc | dd into the
# target with conv=fsync (swinstall flash also ends with fsync). "of-limit"
# = limit / swinstall.
#
# Method: images, targets and keys are kept in BUILD_DIR/bench between runs
# (keyed by size; made anew when missing). Every target is a preallocated
# file of the decoded size (written once, so its blocks exist) that each
# run overwrites; before every command that writes it, 4 KiB of every 64
# KiB are overwritten with a mark and the file is flushed, untimed, so no
# run inherits the last one's bytes or dirty pages. Each row's files are
# read once (untimed) to warm the page cache, then every round runs all of
# the row's commands, in an order rotated by one each round, so they share
# the machine's noise.
# Wall time comes from date +%N around /usr/bin/time (which gives the
# peak RSS). After every swinstall and swupdate run the target's sha256 must
# be the decoded payload's; a mismatch fails the row. swupdate runs
# one-shot (-i), with its default bootloader "none" (nothing in /etc is
# read or written) and TMPDIR in the work directory; a failed swupdate run
# is retried once (it sometimes exits 1 after a complete install).
# swinstall makes its writes durable (fdatasync) before it reports success;
# swupdate calls no fsync at all. The raw row therefore also times
# "swupdate-sync", swupdate followed by `sync -d` of the target, and the
# "durable" line compares swinstall with that (the table compares with
# plain swupdate, as the targets ask).
#
# Exit status: 0 when every run wrote the right bytes (targets missed or
# not), 1 when a run wrote wrong bytes or a tool failed, 2 when the
# benchmark could not be set up.

set -u

BUILD=${1:-build}
MIB=${BENCH_MIB:-1024}
RUNS=${BENCH_RUNS:-5}
BIG_MIB=${BENCH_BIG_MIB:-4096}
SMALL_BYTES=102400
MEM_MIB=256

die() {
	echo "bench: $*" >&2
	exit 2
}

case "$BUILD" in /*) ;; *) BUILD="$(pwd)/$BUILD" ;; esac
SWINSTALL=$BUILD/swinstall
[ -x "$SWINSTALL" ] || die "$SWINSTALL not found (run make first)"
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (Debian package 'time')"
for tool in openssl cpio mkfs.ext4 gzip zstd xz awk python3; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool is missing"
done
for n in "$MIB" "$RUNS" "$BIG_MIB"; do
	case "$n" in '' | *[!0-9]*) die "BENCH_MIB, BENCH_RUNS and BENCH_BIG_MIB take whole numbers" ;; esac
done
# A newc/crc cpio member (as in SWUpdate's format) is smaller than 4 GiB.
BIG_NOTE=
if [ "$BIG_MIB" -ge 4096 ]; then
	BIG_NOTE="mem row: $BIG_MIB MiB is more than a cpio member holds, measured with 4095 MiB"
	BIG_MIB=4095
fi
[ "$MIB" -lt 4096 ] || die "BENCH_MIB must be under 4096 (a cpio member is smaller than 4 GiB)"
{ [ "$MIB" -ge 1 ] && [ "$RUNS" -ge 1 ]; } || die "BENCH_MIB and BENCH_RUNS must be at least 1"
HAVE_SWUPDATE=0
command -v swupdate >/dev/null 2>&1 && HAVE_SWUPDATE=1

W=$BUILD/bench
mkdir -p "$W" || die "cannot create $W"
# shellcheck source=test/bench/images.sh
. "$(dirname "$0")/images.sh"

# swupdate's IPC sockets are fixed paths in /tmp: take turns with the
# integration test that runs it (test/integration/test_swupdate_diff.sh).
LOCK=/tmp/swinstall-swupdate-oracle.lock
if command -v flock >/dev/null 2>&1; then
	exec 9>"$LOCK"
	flock -w 900 9 || die "another run holds $LOCK"
fi

RES=$W/results
LOGS=$W/logs
rm -rf "$RES" "$LOGS"
mkdir -p "$RES" "$LOGS" "$W/swtmp"
: >"$W/failures"

# ------------------------------------------------------------- images

echo "bench: preparing images in $W (cached between runs)"
bench_keys || die "cannot make the signing key"
raw_image "raw-${MIB}M" $((MIB * 1048576)) 1 || die "cannot make the raw image"
raw_image raw-100K "$SMALL_BYTES" 0 || die "cannot make the 100 KiB image"
# (the raw row's own image keeps its payload when a memory row shares it)
keep_mem=0
[ "$MEM_MIB" = "$MIB" ] && keep_mem=1
raw_image "raw-${MEM_MIB}M" $((MEM_MIB * 1048576)) "$keep_mem" || die "cannot make the ${MEM_MIB} MiB image"
fs_image "fs-${MIB}M" $((MIB * 1048576)) || die "cannot make the ext4 image"
fs_compressed "fs-${MIB}M" $((MIB * 1048576)) || die "cannot compress the ext4 image"
if [ "$BIG_MIB" -gt 0 ]; then
	big_dir=$W/raw-${BIG_MIB}M
	free_mib=$(($(df -Pk "$W" | awk 'NR == 2 { print $4 }') / 1024))
	if [ -s "$big_dir/u.swu" ] || [ "$free_mib" -gt $((BIG_MIB * 2 + 1024)) ]; then
		keep_big=0
		[ "$BIG_MIB" = "$MIB" ] && keep_big=1
		raw_image "raw-${BIG_MIB}M" $((BIG_MIB * 1048576)) "$keep_big" || die "cannot make the ${BIG_MIB} MiB image"
	else
		BIG_NOTE="mem raw ${BIG_MIB} MiB: skipped, $free_mib MiB free in $W, needs $((BIG_MIB * 2 + 1024))"
		BIG_MIB=0
	fi
fi

# The web server of the url row (test/integration/url_server.sh), its
# files in $W/web, serving the raw row's directory.
TMP=$W
URL_TOOLS=$(cd "$(dirname "$0")/../integration" && pwd)
# shellcheck source=test/integration/url_server.sh
. "$URL_TOOLS/url_server.sh"
trap web_stop EXIT
HAVE_WEB=0
if web_start "$W/raw-${MIB}M" >"$W/web.why"; then
	HAVE_WEB=1
else
	echo "bench: no url row: $(cat "$W/web.why")"
fi

# ------------------------------------------------------------ running

# The row being measured: its image, target (and scrub file), the decoded
# sha256, payload (raw) and compressed file; SRC is what swinstall installs
# (the image, or its URL).
IMG='' SRC='' TGT='' SCRUB='' SHA='' PAYLOAD='' COMP=''

set_row() {
	IMG=$1/u.swu
	SRC=$IMG
	TGT=$2/target
	SHA=$(cat "$2/payload.sha256")
	PAYLOAD=$2/payload
	SCRUB=$2/scrub
	COMP=${3:-}
}

# timed LOG CMD...: runs CMD; T_SEC (wall seconds), T_RSS (KiB), T_RC.
timed() {
	t_log=$1
	shift
	t0=$(date +%s%N)
	/usr/bin/time -f '%M' -o "$W/time.out" "$@" >"$t_log" 2>&1
	T_RC=$?
	t1=$(date +%s%N)
	T_SEC=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')
	T_RSS=$(tail -n 1 "$W/time.out")
}

# Spoils the target (4 KiB of every 64 KiB, see scrub_file in images.sh) and
# flushes it with what the last run left dirty: untimed, before every
# command that writes the target.
scrub_target() {
	dd if="$SCRUB" of="$TGT" bs=4K conv=notrunc,sparse,fsync status=none
}

target_ok() {
	[ "$(sha_of "$TGT")" = "$SHA" ]
}

failure() {
	echo "$*" >>"$W/failures"
	echo "bench: FAILED: $*" >&2
}

# run_cmd ROW NAME RUN: one timed run of command NAME of the row; appends
# "SECONDS RSS-KIB" to $RES/ROW.NAME.
run_cmd() {
	row=$1 name=$2 run=$3
	# shellcheck disable=SC2016 # the sh -c scripts take their arguments as $1, $2
	case $name in
	swinstall)
		if [ "$row" = flash ]; then
			set -- "$SWINSTALL" -f "$W/swinstall.conf" flash "$COMP" "$TGT" --sha256 "$SHA"
		else
			set -- "$SWINSTALL" -f "$W/swinstall.conf" -k "$CERT" -H bench:1.0 -i "$SRC"
		fi ;;
	swinstall-file) set -- "$SWINSTALL" -f "$W/swinstall.conf" -k "$CERT" -H bench:1.0 -i "$IMG" ;;
	swinstall-https) set -- "$SWINSTALL" -f "$W/swinstall.conf" -k "$CERT" -H bench:1.0 \
		--url-ca-file "$WEB_CA" -i "$WEB_HTTPS/u.swu" ;;
	swupdate) set -- env TMPDIR="$W/swtmp" swupdate -i "$IMG" -k "$CERT" -H bench:1.0 ;;
	swupdate-sync) set -- sh -c 'env TMPDIR="$1" swupdate -i "$2" -k "$3" -H bench:1.0 && sync -d "$4"' \
		sh "$W/swtmp" "$IMG" "$CERT" "$TGT" ;;
	write) set -- dd if="$PAYLOAD" of="$TGT" bs=1M conv=notrunc status=none ;;
	sha256) set -- openssl dgst -sha256 "$IMG" ;;
	zstd-write) set -- sh -c 'zstd -dcq "$1" | dd of="$2" bs=1M conv=notrunc status=none' sh "$COMP" "$TGT" ;;
	gzip-dc) set -- sh -c 'gzip -dc "$1" >/dev/null' sh "$COMP" ;;
	xz-dc) set -- sh -c 'xz -dc "$1" >/dev/null' sh "$COMP" ;;
	xz-write) set -- sh -c 'xz -dc "$1" | dd of="$2" bs=1M conv=notrunc,fsync status=none' sh "$COMP" "$TGT" ;;
	esac
	case $name in swinstall* | swupdate* | write | zstd-write | xz-write) scrub_target ;; esac
	log="$LOGS/$row.$name.$run.log"
	timed "$log" "$@"
	if [ "$T_RC" -ne 0 ] && [ "${name%-sync}" = swupdate ]; then
		mv "$log" "$log.first"
		echo "$row run $run exited $T_RC after $T_SEC s" >>"$RES/swupdate-retries"
		scrub_target
		timed "$log" "$@"
	fi
	if [ "$T_RC" -ne 0 ]; then
		failure "$row: $name exited $T_RC (run $run): $(grep -v '^$' "$log" | tail -n 1)"
		echo "$row $name" >>"$RES/failed"
	elif { [ "${name%-*}" = swinstall ] || [ "${name%-sync}" = swupdate ]; } && ! target_ok; then
		failure "$row: $name wrote wrong bytes (run $run; target sha256 $(sha_of "$TGT"))"
		echo "$row $name" >>"$RES/failed"
	fi
	echo "$T_SEC $T_RSS" >>"$RES/$row.$name"
}

# run_row ROW RUNS NAME...: warms the page cache, then RUNS rounds of the
# commands, the order rotated by one each round.
run_row() {
	row=$1 n=$2
	shift 2
	echo "bench: $row: $n x ($*)"
	cat "$IMG" ${COMP:+"$COMP"} >/dev/null
	[ -f "$PAYLOAD" ] && cat "$PAYLOAD" >/dev/null
	round=1
	while [ "$round" -le "$n" ]; do
		for name in "$@"; do
			run_cmd "$row" "$name" "$round"
		done
		first=$1
		shift
		set -- "$@" "$first"
		round=$((round + 1))
	done
}

printf '# swinstall benchmark configuration: nothing but the command line\n' >"$W/swinstall.conf"
SWU=
[ "$HAVE_SWUPDATE" = 1 ] && SWU=swupdate

set_row "$W/raw-${MIB}M" "$W/raw-${MIB}M"
run_row raw "$RUNS" swinstall $SWU ${SWU:+swupdate-sync} write sha256
if [ "$HAVE_WEB" = 1 ]; then
	SRC=$WEB_HTTP/u.swu
	run_row url "$RUNS" swinstall swinstall-file swinstall-https
fi
for v in zstd:zst:zstd-write gzip:gz:gzip-dc xz:xz:xz-dc; do
	IFS=: read -r name ext limit <<EOF
$v
EOF
	set_row "$W/fs-${MIB}M/$name" "$W/fs-${MIB}M" "$W/fs-${MIB}M/rootfs.ext4.$ext"
	# swupdate's Debian build decodes no xz
	if [ "$name" = xz ]; then
		run_row "$name" "$RUNS" swinstall "$limit"
	else
		run_row "$name" "$RUNS" swinstall $SWU "$limit"
	fi
done
set_row "$W/fs-${MIB}M/xz" "$W/fs-${MIB}M" "$W/fs-${MIB}M/rootfs.ext4.xz"
run_row flash "$RUNS" swinstall xz-write
set_row "$W/raw-100K" "$W/raw-100K"
run_row startup "$RUNS" swinstall $SWU
set_row "$W/raw-${MEM_MIB}M" "$W/raw-${MEM_MIB}M"
run_row "mem$MEM_MIB" "$RUNS" swinstall
if [ "$BIG_MIB" -gt 0 ]; then
	set_row "$W/raw-${BIG_MIB}M" "$W/raw-${BIG_MIB}M"
	run_row "mem$BIG_MIB" 1 swinstall
fi

# ------------------------------------------------------------- report

# median ROW NAME: median seconds of the command's runs ("" if none).
median() {
	[ -s "$RES/$1.$2" ] || return 0
	cut -d' ' -f1 "$RES/$1.$2" | sort -n |
		awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# peak_rss ROW NAME: the largest peak RSS of the command's runs, KiB.
peak_rss() {
	[ -s "$RES/$1.$2" ] || return 0
	cut -d' ' -f2 "$RES/$1.$2" | sort -n | tail -n 1
}

# span ROW NAME: "MIN-MAX s" of the command's runs.
span() {
	[ -s "$RES/$1.$2" ] || { printf -- -; return 0; }
	cut -d' ' -f1 "$RES/$1.$2" | sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.2f-%.2f s", lo, hi }'
}

failed() {
	grep -qx "$1 $2" "$RES/failed" 2>/dev/null
}

MET=0
MISSED=0
ROW_MISSED=
# check WHAT CONDITION [INVALID]: counts a target (CONDITION is an awk
# expression; INVALID=1: measured on a failed run, so missed); a missed one
# is added to ROW_MISSED.
check() {
	if [ "${3:-0}" = 0 ] && awk "BEGIN { exit !($2) }"; then
		MET=$((MET + 1))
	else
		MISSED=$((MISSED + 1))
		ROW_MISSED="$ROW_MISSED${ROW_MISSED:+, }$1"
	fi
}

fmt_s() { [ -n "$1" ] && printf '%.2f s' "$1" || printf -- -; }
fmt_ratio() { [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }' || printf -- -; }
fmt_frac() { [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }' || printf -- -; }
fmt_mbs() { [ -n "$1" ] && awk -v n="$2" -v s="$1" 'BEGIN { printf "%.0f", n / s / 1e6 }' || printf -- -; }
fmt_rss() { [ -n "$1" ] && awk -v k="$1" 'BEGIN { printf "%.1fM", k / 1024 }' || printf -- -; }

ROW_FMT='%-18s %-9s %-6s %-6s %-9s %-7s %-8s %-8s %-9s %s\n'
LINES=$W/table
: >"$LINES"

# report ROW LABEL BYTES LIMIT-SECONDS TARGET-TEXT [RATIO-MIN LIMIT-MIN RSS-MAX-KIB SECONDS-MAX]:
# a line of the table; the targets given (not empty) are checked and counted.
report() {
	row=$1 label=$2 bytes=$3 limit=$4 target=$5
	ratio_min=${6:-} limit_min=${7:-} rss_max=${8:-} time_max=${9:-}
	s=$(median "$row" swinstall)
	u=$(median "$row" swupdate)
	rss=$(peak_rss "$row" swinstall)
	ROW_MISSED=
	swi_bad=0 swu_bad=0
	failed "$row" swinstall && swi_bad=1
	failed "$row" swupdate && swu_bad=1
	if [ -n "$s" ]; then
		[ -n "$ratio_min" ] && [ -n "$u" ] &&
			check "vs swupdate" "$u / $s >= $ratio_min" $((swi_bad | swu_bad))
		[ -n "$limit_min" ] && [ -n "$limit" ] && check "of limit" "$limit / $s >= $limit_min" $swi_bad
		[ -n "$rss_max" ] && check "rss" "$rss < $rss_max" $swi_bad
		[ -n "$time_max" ] && check "time" "$s < $time_max" $swi_bad
	fi
	u_text=$(fmt_s "$u")
	# swupdate's Debian build has no xz decoder
	[ "$row" = xz ] && u_text=n/a
	result=PASS
	[ -n "$ROW_MISSED" ] && result="MISS ($ROW_MISSED)"
	[ "$swu_bad" = 1 ] && result="FAILED (swupdate)"
	[ "$swi_bad" = 1 ] && result="FAILED (swinstall)"
	# shellcheck disable=SC2059 # the format is ours
	printf "$ROW_FMT" "$label" "$(fmt_s "$s")" "$(fmt_mbs "$s" "$bytes")" "$(fmt_rss "$rss")" \
		"$u_text" "$(fmt_ratio "$u" "$s")" "$(fmt_s "$limit")" "$(fmt_frac "$limit" "$s")" \
		"$target" "$result" >>"$LINES"
}

MIB_BYTES=$((MIB * 1048576))
raw_write=$(median raw write)
raw_sha=$(median raw sha256)
raw_limit=$(awk -v a="$raw_write" -v b="$raw_sha" 'BEGIN { print (a > b ? a : b) }')
report raw "raw $MIB MiB" "$MIB_BYTES" "$raw_limit" "3x/0.8" 3.0 0.8 8192
report zstd "zstd $MIB MiB" "$MIB_BYTES" "$(median zstd zstd-write)" "3x/0.8" 3.0 0.8 8192
report gzip "gzip $MIB MiB" "$MIB_BYTES" "$(median gzip gzip-dc)" "1.5x/0.9" 1.5 0.9 8192
report xz "xz $MIB MiB" "$MIB_BYTES" "$(median xz xz-dc)" "-/0.9" "" 0.9 16384
report flash "flash xz $MIB MiB" "$MIB_BYTES" "$(median flash xz-write)" "-/0.9" "" 0.9 16384
[ "$HAVE_WEB" = 1 ] &&
	report url "url http $MIB MiB" "$MIB_BYTES" "$(median url swinstall-file)" "-"
report startup "startup 100 KiB" "$SMALL_BYTES" "" "<0.1s" "" "" "" 0.1
report "mem$MEM_MIB" "mem raw $MEM_MIB MiB" $((MEM_MIB * 1048576)) "" "<8M" "" "" 8192
[ "$BIG_MIB" -gt 0 ] &&
	report "mem$BIG_MIB" "mem raw $BIG_MIB MiB" $((BIG_MIB * 1048576)) "" "<8M" "" "" 8192

echo
echo "swinstall benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM"
big_runs=
if [ "$BIG_MIB" -gt 0 ]; then big_runs=" (mem $BIG_MIB MiB: 1 run)"; fi
echo "medians of $RUNS runs$big_runs; MB = 10^6 bytes of decoded payload; RSS = peak of the runs"
# shellcheck disable=SC2059
printf "$ROW_FMT" row swinstall MB/s RSS swupdate ratio limit of-limit target result
cat "$LINES"
echo
echo "limits: write (dd) $(fmt_s "$raw_write"), sha256 (openssl dgst) $(fmt_s "$raw_sha"), zstd -dc+write $(fmt_s "$(median zstd zstd-write)"), gzip -dc $(fmt_s "$(median gzip gzip-dc)"), xz -dc $(fmt_s "$(median xz xz-dc)"), xz -dc | dd (fsync) $(fmt_s "$(median flash xz-write)")"
[ "$HAVE_SWUPDATE" = 1 ] &&
	echo "swupdate peak RSS: raw $(fmt_rss "$(peak_rss raw swupdate)"), zstd $(fmt_rss "$(peak_rss zstd swupdate)"), gzip $(fmt_rss "$(peak_rss gzip swupdate)"), startup $(fmt_rss "$(peak_rss startup swupdate)"); xz: n/a (no xz in Debian's build)"
[ "$HAVE_SWUPDATE" = 1 ] || echo "swupdate is not installed: no comparison"
[ "$HAVE_SWUPDATE" = 1 ] &&
	echo "swupdate times (its one-shot exit sometimes skips a 1 s wait): raw $(span raw swupdate), zstd $(span zstd swupdate), gzip $(span gzip swupdate), startup $(span startup swupdate)"
[ "$HAVE_SWUPDATE" = 1 ] &&
	echo "durable: swinstall's time includes its fdatasync, swupdate's does not; swupdate then sync -d of the target: raw $(fmt_s "$(median raw swupdate-sync)"), swinstall $(fmt_ratio "$(median raw swupdate-sync)" "$(median raw swinstall)") faster"
[ -s "$RES/swupdate-retries" ] &&
	echo "swupdate runs that failed once and were retried: $(sed 's/ exited.*//' "$RES/swupdate-retries" | tr '\n' ',' | sed 's/,$//; s/,/, /g')"
[ "$HAVE_WEB" = 1 ] &&
	echo "url: the raw image from lighttpd on 127.0.0.1: http $(fmt_s "$(median url swinstall)"), https $(fmt_s "$(median url swinstall-https)"), from the file $(fmt_s "$(median url swinstall-file)") (file/http $(fmt_frac "$(median url swinstall-file)" "$(median url swinstall)"), file/https $(fmt_frac "$(median url swinstall-file)" "$(median url swinstall-https)")); peak RSS http $(fmt_rss "$(peak_rss url swinstall)"), https $(fmt_rss "$(peak_rss url swinstall-https)")"
fs=$W/fs-${MIB}M/rootfs.ext4
echo "ext4 image: $MIB MiB, $(awk '{ n++ } END { print n }' "$W/fs-${MIB}M/files") files from /usr; gzip $(($(stat -c %s "$fs.gz") / 1048576)) MiB, zstd $(($(stat -c %s "$fs.zst") / 1048576)) MiB, xz $(($(stat -c %s "$fs.xz") / 1048576)) MiB"
[ -n "$BIG_NOTE" ] && echo "$BIG_NOTE"

if [ -s "$W/failures" ]; then
	echo
	echo "failures:"
	sed 's/^/  /' "$W/failures"
fi
echo "bench: $MET targets met, $MISSED missed"
[ -s "$W/failures" ] && exit 1
exit 0
