#!/bin/sh
# swinstall manifest: the Azure Device Update import manifest (schema 5.0)
# for a .swu image, and every limit Device Update documents for it refused
# with exit status 2 and a message naming the argument.
. "$(dirname "$0")/lib.sh"

t_init

# manifest ARGS...: runs swinstall manifest ARGS; sets SWI_RC, keeps stdout
# and stderr in $CASE/out and $CASE/err.
manifest() {
	"$SWINSTALL" manifest "$@" >"$CASE/out" 2>"$CASE/err"
	SWI_RC=$?
	echo "\$ swinstall manifest $* -> exit $SWI_RC"
	sed 's/^/  stdout: /' "$CASE/out"
	sed 's/^/  stderr: /' "$CASE/err"
}

# json_check PYTHON-EXPRESSION: true for d, the manifest on stdout.
json_check() {
	python3 -c 'import json, re, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)' "$CASE/out" "$1" || fail "manifest: not true: $1"
}

# sha64 FILE: the SHA-256 of FILE, base64 of the raw digest.
sha64() {
	openssl dgst -sha256 -binary "$1" | base64
}

size_of() {
	wc -c <"$1" | tr -d ' '
}

# fw.swu in the case directory: an unsigned image whose sw-description says
# version 2.4.1.
image() {
	mkdir -p w
	mk_data w/rootfs.img 64K "rootfs-$T_NUM"
	cat >w/sw-description <<-EOD
	software = {
		version = "2.4.1";
		images: ( { filename = "rootfs.img"; device = "/dev/null"; } );
	};
	EOD
	mk_swu fw.swu none newc w rootfs.img || fail "image not built"
}

good_args="--provider Contoso --name Toaster-2.x --version 2.4.1
	--compat manufacturer=Contoso,model=Toaster"

case_fields() {
	image
	# shellcheck disable=SC2086 # the arguments are split on purpose
	manifest fw.swu $good_args --compat manufacturer=Contoso,model=Toaster,hw=2
	[ "$SWI_RC" -eq 0 ] || fail "exit $SWI_RC, expected 0"
	json_check 'd["updateId"] == {"provider": "Contoso", "name": "Toaster-2.x", "version": "2.4.1"}'
	json_check 'd["compatibility"] == [{"manufacturer": "Contoso", "model": "Toaster"},
		{"manufacturer": "Contoso", "model": "Toaster", "hw": "2"}]'
	json_check 'len(d["instructions"]["steps"]) == 1'
	json_check 'd["instructions"]["steps"][0]["handler"] == "microsoft/swupdate:2"'
	json_check 'd["instructions"]["steps"][0]["files"] == ["fw.swu"]'
	json_check 'd["instructions"]["steps"][0]["handlerProperties"] ==
		{"installedCriteria": "2.4.1", "swuFileName": "fw.swu"}'
	json_check "d['files'] == [{'filename': 'fw.swu', 'sizeInBytes': $(size_of fw.swu),
		'hashes': {'sha256': '$(sha64 fw.swu)'}}]"
	json_check 'd["manifestVersion"] == "5.0"'
	json_check 're.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", d["createdDateTime"])'
	json_check 'sorted(d) == sorted(["updateId", "compatibility", "instructions", "files",
		"manifestVersion", "createdDateTime"])'
	# The time is now, in UTC.
	json_check 'abs(__import__("calendar").timegm(__import__("time").strptime(
		d["createdDateTime"], "%Y-%m-%dT%H:%M:%SZ")) - __import__("time").time()) < 120'
}

case_script_and_files() {
	image
	printf '#!/bin/sh\necho update\n' >ab-update.sh
	mkdir -p extra
	mk_data extra/notes.bin 3K "notes-$T_NUM"
	# shellcheck disable=SC2086
	manifest --file extra/notes.bin fw.swu $good_args --script ab-update.sh \
		--arguments "--verbose --swu-file fw.swu"
	[ "$SWI_RC" -eq 0 ] || fail "exit $SWI_RC, expected 0"
	json_check 'd["instructions"]["steps"][0]["files"] == ["fw.swu", "ab-update.sh", "notes.bin"]'
	json_check 'd["instructions"]["steps"][0]["handlerProperties"] == {"installedCriteria": "2.4.1",
		"swuFileName": "fw.swu", "scriptFileName": "ab-update.sh",
		"arguments": "--verbose --swu-file fw.swu"}'
	for f in fw.swu ab-update.sh extra/notes.bin; do
		json_check "{'filename': '${f##*/}', 'sizeInBytes': $(size_of "$f"),
			'hashes': {'sha256': '$(sha64 "$f")'}} in d['files']"
	done
	json_check 'len(d["files"]) == 3'
}

# Device Update publishes the import manifest 5.0 as a JSON schema on
# SchemaStore.org. The schema below is ours, written from that one's
# constraints: identity characters and lengths, two or more dotted numbers,
# 1 to 10 compatibility sets of 1 to 5 properties (names up to 32, values up
# to 64 characters), 1 to 10 steps of 1 to 10 files, handler "x/y:N" of 5 to
# 32 characters, up to 10 files of 1 byte to 2 GiB with a sha256, names of 1
# to 255 characters, manifestVersion 5.0, no properties besides these.
case_schema() {
	image
	echo data >extra.bin
	echo script >extra.sh
	# shellcheck disable=SC2086
	manifest fw.swu $good_args --file extra.bin --script extra.sh --arguments "-v"
	[ "$SWI_RC" -eq 0 ] || fail "exit $SWI_RC, expected 0"
	python3 - "$CASE/out" <<-'EOD' || fail "the manifest does not match the schema"
	import json, sys, jsonschema
	ident = {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[a-zA-Z0-9.-]+$"}
	update_id = {"type": "object", "additionalProperties": False,
	             "required": ["provider", "name", "version"],
	             "properties": {"provider": ident, "name": ident,
	                            "version": {"type": "string", "pattern": r"^\d+(?:\.\d+)+$"}}}
	filename = {"type": "string", "minLength": 1, "maxLength": 255}
	compat_set = {"type": "object", "minProperties": 1, "maxProperties": 5,
	              "propertyNames": {"minLength": 1, "maxLength": 32},
	              "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 64}}
	step = {"type": "object", "additionalProperties": False, "required": ["handler", "files"],
	        "properties": {
	            "handler": {"type": "string", "minLength": 5, "maxLength": 32,
	                        "pattern": r"^\S+/\S+:\d{1,5}$"},
	            "files": {"type": "array", "minItems": 1, "maxItems": 10, "items": filename},
	            "handlerProperties": {"type": "object"}}}
	file = {"type": "object", "required": ["filename", "sizeInBytes", "hashes"],
	        "properties": {
	            "filename": filename,
	            "sizeInBytes": {"type": "number", "minimum": 1, "maximum": 2147483648},
	            "hashes": {"type": "object", "required": ["sha256"], "maxProperties": 2,
	                       "properties": {"sha256": {"type": "string"}}}}}
	schema = {"type": "object", "additionalProperties": False,
	          "required": ["updateId", "compatibility", "instructions", "manifestVersion",
	                       "createdDateTime"],
	          "properties": {
	              "updateId": update_id,
	              "compatibility": {"type": "array", "minItems": 1, "maxItems": 10,
	                                "items": compat_set},
	              "instructions": {"type": "object", "additionalProperties": False,
	                               "required": ["steps"],
	                               "properties": {"steps": {"type": "array", "minItems": 1,
	                                                        "maxItems": 10, "items": step}}},
	              "files": {"type": "array", "maxItems": 10, "items": file},
	              "manifestVersion": {"const": "5.0"},
	              "createdDateTime": {"type": "string"}}}
	jsonschema.Draft7Validator.check_schema(schema)
	jsonschema.validate(json.load(open(sys.argv[1])), schema)
	EOD
}

# Without --version, the version of sw-description is used, and checked.
case_version_default() {
	image
	manifest fw.swu --provider Contoso --name Toaster --compat model=Toaster
	[ "$SWI_RC" -eq 0 ] || fail "exit $SWI_RC, expected 0"
	json_check 'd["updateId"]["version"] == "2.4.1"'
	json_check 'd["instructions"]["steps"][0]["handlerProperties"]["installedCriteria"] == "2.4.1"'
	sed -i 's/"2.4.1"/"2.4.1-rc1"/' w/sw-description
	mk_swu rc.swu none newc w rootfs.img || fail "image not built"
	refused "--version (the version of sw-description) '2.4.1-rc1'" \
		rc.swu --provider Contoso --name Toaster --compat model=Toaster
	sed -i '/version = /d' w/sw-description
	mk_swu none.swu none newc w rootfs.img || fail "image not built"
	refused "--version is needed" none.swu --provider Contoso --name Toaster \
		--compat model=Toaster
	# --version wins over sw-description.
	manifest rc.swu --provider Contoso --name Toaster --compat model=Toaster --version 2.4.1.7
	[ "$SWI_RC" -eq 0 ] || fail "exit $SWI_RC, expected 0"
	json_check 'd["updateId"]["version"] == "2.4.1.7"'
}

# A signed image: no key is needed to describe it.
case_signed_image() {
	image
	mk_swu signed.swu cms newc w rootfs.img || fail "image not built"
	# shellcheck disable=SC2086
	manifest signed.swu $good_args
	[ "$SWI_RC" -eq 0 ] || fail "exit $SWI_RC, expected 0"
	json_check "d['files'][0] == {'filename': 'signed.swu', 'sizeInBytes': $(size_of signed.swu),
		'hashes': {'sha256': '$(sha64 signed.swu)'}}"
}

# refused WORD ARGS...: swinstall manifest ARGS exits 2, prints nothing on
# stdout and names WORD on stderr.
refused() {
	word=$1
	shift
	manifest "$@"
	[ "$SWI_RC" -eq 2 ] || fail "exit $SWI_RC, expected 2, for: $*"
	[ -s "$CASE/out" ] && fail "printed a manifest for: $*"
	grep -qF -- "$word" "$CASE/err" || fail "the message does not name $word for: $*"
	return 0
}

long() {
	python3 -c 'import sys; print(sys.argv[1] * int(sys.argv[2]))' "$1" "$2"
}

case_identity_limits() {
	image
	c="--compat manufacturer=Contoso"
	refused --provider fw.swu --provider "$(long P 65)" --name N --version 1.0 $c
	refused --provider fw.swu --provider "" --name N --version 1.0 $c
	refused --provider fw.swu --provider "Con toso" --name N --version 1.0 $c
	refused --provider fw.swu --provider "Contoso_Ltd" --name N --version 1.0 $c
	refused --name fw.swu --provider P --name "$(long n 65)" --version 1.0 $c
	refused --name fw.swu --provider P --name "Toaster/2" --version 1.0 $c
	# 64 characters is still allowed.
	manifest fw.swu --provider "$(long P 64)" --name "$(long n 64)" --version 1.0 $c
	[ "$SWI_RC" -eq 0 ] || fail "64-character provider and name refused"
}

case_version_limits() {
	image
	c="--compat manufacturer=Contoso"
	for v in 1 1.2.3.4.5 1.x 1..2 .1 1.2. 1.2147483648 99999999999.1 v1.0 "1.0 "; do
		refused --version fw.swu --provider P --name N --version "$v" $c
	done
	manifest fw.swu --provider P --name N --version 2147483647.0.0.1 $c
	[ "$SWI_RC" -eq 0 ] || fail "four parts up to 2147483647 refused"
	json_check 'd["updateId"]["version"] == "2147483647.0.0.1"'
}

case_compat_limits() {
	image
	id="--provider P --name N --version 1.0"
	refused --compat fw.swu $id
	refused --compat fw.swu $id --compat "a=1,b=2,c=3,d=4,e=5,f=6"
	refused --compat fw.swu $id --compat "$(long k 33)=v"
	refused --compat fw.swu $id --compat "k=$(long v 65)"
	refused --compat fw.swu $id --compat "k="
	refused --compat fw.swu $id --compat "=v"
	refused --compat fw.swu $id --compat "model"
	refused --compat fw.swu $id --compat "model=a,model=b"
	refused --compat fw.swu $id --compat ","
	sets=""
	for i in 1 2 3 4 5 6 7 8 9 10 11; do
		sets="$sets --compat model=m$i"
	done
	refused --compat fw.swu $id $sets
	# The largest allowed: 10 sets of 5 properties, 32-character names,
	# 64-character values.
	big="$(long k 31)1=$(long v 64),b=2,c=3,d=4,e=5"
	manifest fw.swu $id $(for i in 1 2 3 4 5 6 7 8 9; do echo --compat "$big"; done) \
		--compat "$big"
	[ "$SWI_RC" -eq 0 ] || fail "10 sets of 5 properties refused"
	json_check 'len(d["compatibility"]) == 10 and all(len(s) == 5 for s in d["compatibility"])'
}

case_file_limits() {
	image
	# shellcheck disable=SC2086
	set -- $good_args
	files=""
	for i in 1 2 3 4 5 6 7 8 9 10; do
		echo "$i" >"f$i"
		files="$files --file f$i"
	done
	refused --file fw.swu "$@" $files
	mkdir -p other
	echo x >other/fw.swu
	refused --file fw.swu "$@" --file other/fw.swu
	: >empty.bin
	refused "--file empty.bin" fw.swu "$@" --file empty.bin
	refused --file fw.swu "$@" --file other/
	# The .swu and 9 more make 10: allowed.
	manifest fw.swu "$@" $(for i in 1 2 3 4 5 6 7 8 9; do echo --file "f$i"; done)
	[ "$SWI_RC" -eq 0 ] || fail "10 files refused"
	json_check 'len(d["files"]) == 10 and len(d["instructions"]["steps"][0]["files"]) == 10'
}

case_not_an_image() {
	image
	# shellcheck disable=SC2086
	set -- $good_args
	mkdir -p w2
	echo x >w2/payload
	cp w/sw-description w2/sw-description
	mk_cpio wrong-order.swu newc w2 payload sw-description
	manifest wrong-order.swu "$@"
	[ "$SWI_RC" -eq 3 ] || fail "an image without sw-description first: exit $SWI_RC, expected 3"
	grep -qF "wrong-order.swu" "$CASE/err" || fail "the message does not name the file"
	cp w/rootfs.img plain.bin
	manifest plain.bin "$@"
	[ "$SWI_RC" -eq 3 ] || fail "a file that is not cpio: exit $SWI_RC, expected 3"
	manifest missing.swu "$@"
	[ "$SWI_RC" -eq 1 ] || fail "a missing image: exit $SWI_RC, expected 1"
	grep -qF "image missing.swu" "$CASE/err" || fail "the message does not name the missing file"
	manifest fw.swu "$@" --file missing.bin
	[ "$SWI_RC" -eq 1 ] || fail "a missing --file: exit $SWI_RC, expected 1"
	grep -qF -- "--file missing.bin" "$CASE/err" || fail "the message does not name --file"
	manifest fw.swu "$@" --script missing.sh
	[ "$SWI_RC" -eq 1 ] || fail "a missing --script: exit $SWI_RC, expected 1"
	grep -qF -- "--script missing.sh" "$CASE/err" || fail "the message does not name --script"
	refused "exactly one image" "$@"
	refused "--provider" fw.swu --name N --version 1.0 --compat a=b
	refused "--name" fw.swu --provider P --version 1.0 --compat a=b
	manifest --help
	[ "$SWI_RC" -eq 0 ] || fail "--help: exit $SWI_RC"
	grep -qF -- "--compat" "$CASE/out" || fail "--help does not describe --compat"
}

run_case "manifest: every field, sizes and base64 SHA-256 of the image" case_fields
run_case "manifest: --script, --arguments and --file in the step and the file list" \
	case_script_and_files
if python3 -c 'import jsonschema' 2>/dev/null; then
	run_case "manifest: matches the import manifest 5.0 schema" case_schema
else
	echo "ok - manifest: matches the import manifest 5.0 schema # SKIP python3-jsonschema is not installed"
fi
run_case "manifest: the version of sw-description when --version is not given" \
	case_version_default
run_case "manifest: a signed image, no key needed" case_signed_image
run_case "manifest: provider and name, length and characters" case_identity_limits
run_case "manifest: version, 2 to 4 numbers up to 2147483647" case_version_limits
run_case "manifest: compatibility, sets, properties, name and value lengths" case_compat_limits
run_case "manifest: files, count, duplicate names, empty, a directory" case_file_limits
run_case "manifest: not a .swu image, missing files, missing options" case_not_an_image
t_done
