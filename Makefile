# swinstall — build, test, demo, install.
# Everything built goes under $(BUILD); nothing else in the tree is written.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
DESTDIR ?=

BUILD ?= build
# VERSION matches SWI_VERSION_* in include/swinstall.h (test_abi.sh checks).
# SONAME_MAJOR changes only when the ABI breaks: an exported function removed
# or changed incompatibly (lib/libswinstall.map, test/abi/exported-symbols.txt).
SONAME_MAJOR := 0
VERSION := 0.2.0

PKGS := libarchive libconfig json-c libcrypto zlib liblzma libzstd libubootenv lua5.3
# libcurl is loaded at run time, by the first download (lib/source_url.c):
# its headers are needed, not its library.
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) libcurl 2>/dev/null)
# -lm: floor() in lib/lua_hooks.c, which gcc inlines and clang calls.
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
# The program links libarchive's static archive when there is one: only what
# it uses comes along (the cpio reader of .swu images; the tar and cpio
# readers, their decompressors and the disk writer of the archive handler),
# so the program does not load the libraries libarchive's other formats need
# (libxml2, ICU, nettle, ...), which would cost about 3.5 MiB of memory.
# Those parts need libraries of their own (libacl, libbz2, liblz4): the
# static link lists libarchive's, and --as-needed keeps only the ones used.
# The shared library links libarchive as usual. `make CLI_STATIC_ARCHIVE=`
# links the program so too.
CLI_STATIC_ARCHIVE ?= $(wildcard $(shell pkg-config --variable=libdir libarchive 2>/dev/null)/libarchive.a)
CLI_STATIC_ARCHIVE_LIBS := $(if $(CLI_STATIC_ARCHIVE),$(shell pkg-config --static --libs-only-l libarchive 2>/dev/null))

CFLAGS ?= -O2 -g
ifeq ($(SANITIZE),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif
ALL_CFLAGS := -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -fPIC -pthread $(SAN_FLAGS) $(CFLAGS)
ALL_CPPFLAGS := -Iinclude -Ilib $(PKG_CFLAGS) $(CPPFLAGS)
ALL_LDFLAGS := -pthread $(SAN_FLAGS) $(LDFLAGS)

LIB_SRC := $(sort $(wildcard lib/*.c) $(wildcard handlers/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_SRC := $(sort $(wildcard cli/*.c))
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_SRC := $(sort $(wildcard test/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:test/unit/%.c=$(BUILD)/test/%)

STATIC_LIB := $(BUILD)/libswinstall.a
SHARED_LIB := $(BUILD)/libswinstall.so.$(VERSION)
CLI := $(BUILD)/swinstall
AGENT := $(BUILD)/swinstall-agent

.PHONY: all deps check check-vm check-asan unit integration demo bench install clean
all: $(CLI) $(AGENT) $(STATIC_LIB) $(SHARED_LIB) $(BUILD)/libswinstall.pc

$(BUILD)/obj/%.o: %.c $(wildcard include/*.h include/swinstall/*.h lib/*.h cli/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(STATIC_LIB): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

# Only the public functions are exported, those lib/libswinstall.map lists.
$(SHARED_LIB): $(LIB_OBJ) lib/libswinstall.map
	$(CC) -shared -Wl,-soname,libswinstall.so.$(SONAME_MAJOR) \
		-Wl,--version-script=lib/libswinstall.map $(ALL_LDFLAGS) -o $@ $(LIB_OBJ) $(PKG_LIBS)
	ln -sf libswinstall.so.$(VERSION) $(BUILD)/libswinstall.so.$(SONAME_MAJOR)
	ln -sf libswinstall.so.$(SONAME_MAJOR) $(BUILD)/libswinstall.so

$(CLI): $(CLI_OBJ) $(STATIC_LIB)
	$(CC) $(ALL_LDFLAGS) -Wl,--as-needed -o $@ $(CLI_OBJ) $(STATIC_LIB) $(CLI_STATIC_ARCHIVE) \
		$(PKG_LIBS) $(CLI_STATIC_ARCHIVE_LIBS)

# The example agent sees only the public header, as a program built outside
# this tree would.
$(AGENT): examples/agent.c include/swinstall.h $(STATIC_LIB)
	$(CC) -Iinclude $(PKG_CFLAGS) $(CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< \
		$(STATIC_LIB) $(PKG_LIBS)

$(BUILD)/test/%: test/unit/%.c $(STATIC_LIB) $(wildcard test/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(STATIC_LIB) $(PKG_LIBS) -lcmocka

PC_SUBST := sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|; s|@VERSION@|$(VERSION)|'

$(BUILD)/libswinstall.pc: lib/libswinstall.pc.in
	@mkdir -p $(BUILD)
	$(PC_SUBST) $< > $@

# Installs the Debian packages listed in test/debian-packages that are missing.
deps:
	@sh test/install-deps.sh test/debian-packages

check: deps
	@$(MAKE) --no-print-directory all $(UNIT_BIN)
	@sh test/run-tests.sh $(BUILD)

# The VM tests alone (test/vm/), with 50 power cuts instead of make check's 10.
check-vm: deps
	@$(MAKE) --no-print-directory all
	@VM_CUTS=50 SWINSTALL=$(BUILD)/swinstall sh test/integration/test_vm.sh

check-asan: deps
	@$(MAKE) --no-print-directory BUILD=build/asan SANITIZE=1 all $(UNIT_BIN:$(BUILD)/%=build/asan/%)
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 sh test/run-tests.sh build/asan

unit: $(UNIT_BIN)
	@sh test/run-tests.sh $(BUILD) unit

demo: deps
	@$(MAKE) --no-print-directory all
	@sh examples/demo.sh $(BUILD)

# Speed and memory against Debian's swupdate and the physical limits.
bench: deps
	@$(MAKE) --no-print-directory all
	@sh test/bench/bench.sh $(BUILD)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig \
		$(DESTDIR)$(INCLUDEDIR)/swinstall $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3
	install -m 755 $(CLI) $(DESTDIR)$(BINDIR)/swinstall
	install -m 644 $(STATIC_LIB) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(SHARED_LIB) $(DESTDIR)$(LIBDIR)/
	ln -sf libswinstall.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libswinstall.so.$(SONAME_MAJOR)
	ln -sf libswinstall.so.$(SONAME_MAJOR) $(DESTDIR)$(LIBDIR)/libswinstall.so
	install -m 644 include/swinstall.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 644 include/swinstall/handler.h $(DESTDIR)$(INCLUDEDIR)/swinstall/
	$(PC_SUBST) lib/libswinstall.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/libswinstall.pc
	install -m 644 cli/swinstall.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 lib/libswinstall.3 $(DESTDIR)$(MANDIR)/man3/

clean:
	rm -rf $(BUILD)
