# pyfreeze.mk: freeze Python modules into a C program with GNU make.
#
# Set these, then `include path/to/build-support/pyfreeze.mk`:
#   PYFREEZE_SPEC     the pyfreeze.toml to freeze (required)
#   PYFREEZE_PYTHON   the target interpreter (required; it compiles the bytecode and its
#                     sysconfig gives the include and link flags below)
#   PYFREEZE          the pyfreeze command, a path or a name on PATH (default: pyfreeze)
#   PYFREEZE_OUT      folder for the generated C      (default: pyfreeze-out)
#   PYFREEZE_OBJDIR   folder for their objects        (default: $(PYFREEZE_OUT).obj)
#   PYFREEZE_FLAGS    more `pyfreeze freeze` flags    (default: none)
#   PYFREEZE_CFLAGS   flags for compiling the tables  (default: -O2)
#   PYFREEZE_PY_LINK  how to link libpython (default: auto)
#                     static: libpythonX.Y.a (Debian's libpythonX.Y-pic.a when it is there:
#                       Debian's libpythonX.Y.a is not position-independent);
#                     shared: libpythonX.Y.so;
#                     auto: static, unless there is no static archive (a development
#                       package that ships only the shared library) or it cannot be linked
#                       alone: its built-in modules need files of CPython's build tree
#                       (MODLIBS names them; Debian's 3.12+ archives lack the HACL* objects
#                       of hashlib) that are not installed under LIBPL (`pyfreeze cpython
#                       build` installs them there)
#
# It defines:
#   PYFREEZE_OBJECTS         every object of the tables, modules, data and runtime
#   PYFREEZE_LIB             all of them in one static archive, for a short link line
#   PYFREEZE_PY_CFLAGS       -I flags for Python.h of PYFREEZE_PYTHON
#   PYFREEZE_PY_LDFLAGS      link flags for its libpython (libpythonX.Y.a or .so, its
#                            libraries, -export-dynamic for extension modules, and -no-pie
#                            for a static libpython whose interpreter is linked so)
#   PYFREEZE_PY_DYNLOAD      its extension-module folder (lib-dynload)
#   PYFREEZE_STAMP           the target that (re)runs the generator
#
# The generator runs when the spec, the pyfreeze binary, the interpreter (its path or the
# file), PYFREEZE_FLAGS, or any frozen file or folder changes (a depfile lists them, and a
# deleted one counts as a change); it rewrites only the C files whose bytes change, so only
# those modules are recompiled.

ifndef PYFREEZE_SPEC
$(error pyfreeze.mk: set PYFREEZE_SPEC to your pyfreeze.toml before including pyfreeze.mk)
endif
ifndef PYFREEZE_PYTHON
$(error pyfreeze.mk: set PYFREEZE_PYTHON to the target interpreter, e.g. $$(pyenv root)/versions/3.11.7/bin/python3.11)
endif

# Rules below must not become the includer's default goal.
PYFREEZE__DEFAULT_GOAL := $(.DEFAULT_GOAL)

PYFREEZE ?= pyfreeze
PYFREEZE_OUT ?= pyfreeze-out
PYFREEZE_OBJDIR ?= $(PYFREEZE_OUT).obj
PYFREEZE_FLAGS ?=
PYFREEZE_CFLAGS ?= -O2
PYFREEZE_PY_LINK ?= auto
PYFREEZE_STAMP := $(PYFREEZE_OUT)/.stamp

# A word of a sysconfig link variable that names a file of CPython's build tree, which
# `make install` leaves behind: a relative path (MODLIBS's Modules/_decimal/libmpdec/libmpdec.a
# of a static build, Debian 3.13's Modules/_hacl/libHacl_Hash_SHA2.a), or the stray backslash
# left of a multi-line object list (Debian 3.14's and 3.15's MODLIBS). `pyfreeze cpython
# build` installs such archives under LIBPL at the same relative path: a word found there is
# linked from there, any other is dropped.
PYFREEZE__PY_WORDS = import os, sysconfig as s; v = s.get_config_var; L = v('LIBPL') or ''; \
  tree = lambda w: w == chr(92) or (w[0] not in '-/' and '/' in w); \
  kept = lambda w: not tree(w) or (w != chr(92) and L != '' and os.path.isfile(os.path.join(L, w))); \
  word = lambda w: os.path.join(L, w) if tree(w) else w
# sysconfig variables, one word list, build-tree words resolved under LIBPL or dropped.
PYFREEZE__SYSCONFIG = $(shell $(PYFREEZE_PYTHON) -S -c "$(PYFREEZE__PY_WORDS); print(*(word(w) for k in '$(1)'.split() for w in str(v(k) or '').split() if kept(w)))")
# The paths, then how `auto` links: a static archive whose MODLIBS names build-tree files
# that are not installed cannot be linked without them (Debian's 3.12+ lack hashlib's HACL*
# objects): shared. Last, whether the interpreter's own executable is position-independent
# (its ELF type: 2 is a fixed-address executable).
PYFREEZE__PY_ELF = import sys; elf = lambda p: p and os.path.isfile(p) and (lambda h: h[:4] == b'\x7fELF' and int.from_bytes(h[16:18], 'big' if h[5:6] == b'\x02' else 'little'))(open(p, 'rb').read(18))
PYFREEZE__PATHS := $(shell $(PYFREEZE_PYTHON) -S -c "$(PYFREEZE__PY_WORDS); $(PYFREEZE__PY_ELF); print(*(v(k) or '' for k in 'INCLUDEPY LIBPL LIBRARY DESTSHARED LIBDIR LDLIBRARY'.split()), 'static' if all(kept(w) for w in str(v('MODLIBS') or '').split()) else 'shared', 'no-pie' if elf(sys.executable) == 2 else 'pie')")
ifneq ($(words $(PYFREEZE__PATHS)),8)
$(error pyfreeze.mk: cannot query PYFREEZE_PYTHON=$(PYFREEZE_PYTHON) (got "$(PYFREEZE__PATHS)"); point it at a CPython 3.10+ interpreter)
endif
PYFREEZE_PY_CFLAGS := -I$(word 1,$(PYFREEZE__PATHS))
PYFREEZE__LIBPYTHON := $(word 2,$(PYFREEZE__PATHS))/$(word 3,$(PYFREEZE__PATHS))
# Debian's libpythonX.Y.a is not position-independent (a PIE link fails with R_X86_64_32
# relocations); the libpythonX.Y-pic.a it ships beside it is.
PYFREEZE__LIBPYTHON_PIC := $(patsubst %.a,%-pic.a,$(PYFREEZE__LIBPYTHON))
PYFREEZE_PY_LIBPYTHON := $(or $(wildcard $(PYFREEZE__LIBPYTHON_PIC)),$(PYFREEZE__LIBPYTHON))
PYFREEZE_PY_DYNLOAD := $(word 4,$(PYFREEZE__PATHS))
PYFREEZE__AUTO := $(word 7,$(PYFREEZE__PATHS))
PYFREEZE__WHY_SHARED := the static one needs files of CPython's build tree that MODLIBS names and LIBPL lacks
# A development package may ship no static libpython (only the shared one): auto links that.
ifeq ($(PYFREEZE__AUTO)$(wildcard $(PYFREEZE_PY_LIBPYTHON)),static)
PYFREEZE__AUTO := shared
PYFREEZE__WHY_SHARED := there is no static one: $(PYFREEZE__LIBPYTHON)
endif
PYFREEZE__LINK := $(if $(filter auto,$(PYFREEZE_PY_LINK)),$(PYFREEZE__AUTO),$(PYFREEZE_PY_LINK))
ifeq ($(PYFREEZE__LINK),static)
ifeq ($(wildcard $(PYFREEZE_PY_LIBPYTHON)),)
$(error pyfreeze.mk: PYFREEZE_PY_LINK=static links $(PYFREEZE__LIBPYTHON), which does not exist; install the interpreter's static library (Debian: libpythonX.Y-dev; pyenv builds it) or link the shared one (PYFREEZE_PY_LINK=shared))
endif
# MODLIBS: the libraries of extension modules built into libpython (Debian's zlib, pyexpat).
# A static libpython goes into a program linked as the interpreter itself is: -no-pie when its
# executable is not position-independent (Debian's python3.X; a deep-frozen 3.11 of `pyfreeze
# cpython build`, whose static code objects would otherwise each need a load-time relocation:
# some 670,000, 4x the start-up time and 3x the memory).
PYFREEZE_PY_LDFLAGS := $(PYFREEZE_PY_LIBPYTHON) $(call PYFREEZE__SYSCONFIG,LIBS MODLIBS SYSLIBS LINKFORSHARED) \
  $(if $(filter no-pie,$(word 8,$(PYFREEZE__PATHS))),-no-pie)
else ifeq ($(PYFREEZE__LINK),shared)
PYFREEZE__LIBDIR := $(word 5,$(PYFREEZE__PATHS))
PYFREEZE__LDLIBRARY := $(word 6,$(PYFREEZE__PATHS))
ifeq ($(filter %.so,$(PYFREEZE__LDLIBRARY)),)
$(error pyfreeze.mk: PYFREEZE_PY_LINK=$(PYFREEZE_PY_LINK) needs a shared libpython$(if $(filter auto,$(PYFREEZE_PY_LINK)), ($(PYFREEZE__WHY_SHARED))), but $(PYFREEZE_PYTHON) has none (LDLIBRARY=$(PYFREEZE__LDLIBRARY)); use a CPython built with --enable-shared, or a complete static libpython (PYFREEZE_PY_LINK=static))
endif
ifeq ($(wildcard $(PYFREEZE__LIBDIR)/$(PYFREEZE__LDLIBRARY)),)
$(error pyfreeze.mk: PYFREEZE_PY_LINK=$(PYFREEZE_PY_LINK) links $(PYFREEZE__LIBDIR)/$(PYFREEZE__LDLIBRARY)$(if $(filter auto,$(PYFREEZE_PY_LINK)), ($(PYFREEZE__WHY_SHARED))), which does not exist; install the interpreter's development files (Debian: libpythonX.Y-dev))
endif
PYFREEZE_PY_LIBPYTHON := $(PYFREEZE__LIBDIR)/$(PYFREEZE__LDLIBRARY)
# A libpython outside the linker's own folders is found at run time through an rpath.
PYFREEZE__RPATH := $(if $(filter /usr/lib /usr/lib/% /lib /lib/%,$(PYFREEZE__LIBDIR)),,-Wl,-rpath,$(PYFREEZE__LIBDIR))
PYFREEZE_PY_LDFLAGS := -L$(PYFREEZE__LIBDIR) -l$(patsubst lib%.so,%,$(PYFREEZE__LDLIBRARY)) $(PYFREEZE__RPATH) $(call PYFREEZE__SYSCONFIG,LIBS SYSLIBS LINKFORSHARED)
else
$(error pyfreeze.mk: PYFREEZE_PY_LINK=$(PYFREEZE_PY_LINK): expected auto, static or shared)
endif

# The binary and the interpreter as files, so that make notices when they change.
PYFREEZE__WHICH = $(if $(findstring /,$(1)),$(1),$(shell command -v $(1)))
PYFREEZE__BIN := $(call PYFREEZE__WHICH,$(PYFREEZE))
ifeq ($(PYFREEZE__BIN),)
$(error pyfreeze.mk: PYFREEZE=$(PYFREEZE) is not on PATH; set PYFREEZE to the pyfreeze binary, e.g. target/release/pyfreeze)
endif
PYFREEZE__PYBIN := $(call PYFREEZE__WHICH,$(PYFREEZE_PYTHON))

# What the freeze depends on besides files: rewritten (and so newer than the stamp) only when
# the interpreter or the flags change.
PYFREEZE__SETTINGS := $(PYFREEZE_OBJDIR)/settings
PYFREEZE__SETTINGS_TEXT := python=$(PYFREEZE__PYBIN) flags=$(PYFREEZE_FLAGS)
ifneq ($(file < $(PYFREEZE__SETTINGS)),$(PYFREEZE__SETTINGS_TEXT))
$(shell mkdir -p $(PYFREEZE_OBJDIR))
$(file > $(PYFREEZE__SETTINGS),$(PYFREEZE__SETTINGS_TEXT))
endif

# Without its depfile (deleted, or a first run) the stamp cannot tell what changed: freeze.
PYFREEZE__NO_DEPFILE := $(if $(wildcard $(PYFREEZE_OUT)/deps.mk),,pyfreeze-no-depfile)
.PHONY: pyfreeze-no-depfile

$(PYFREEZE_STAMP): $(PYFREEZE_SPEC) $(PYFREEZE__BIN) $(PYFREEZE__PYBIN) $(PYFREEZE__SETTINGS) $(PYFREEZE__NO_DEPFILE)
	$(PYFREEZE) freeze --spec $(PYFREEZE_SPEC) --python $(PYFREEZE_PYTHON) --out $(PYFREEZE_OUT) \
	    --depfile $(PYFREEZE_OUT)/deps.mk --depfile-target $(PYFREEZE_STAMP) $(PYFREEZE_FLAGS)
	@touch $@

-include $(PYFREEZE_OUT)/deps.mk

# The list of generated C files is itself generated; make re-reads it after a freeze.
$(PYFREEZE_OUT)/sources.mk: $(PYFREEZE_STAMP)
	@touch -c $@
-include $(PYFREEZE_OUT)/sources.mk

PYFREEZE_OBJECTS := $(patsubst %.c,$(PYFREEZE_OBJDIR)/%.o,$(PYFREEZE_GENERATED_C))

PYFREEZE_LIB := $(PYFREEZE_OBJDIR)/libpyfreeze.a

$(PYFREEZE_LIB): $(PYFREEZE_OBJECTS)
	@rm -f $@
	@echo "AR $@ ($(words $^) objects)"
	@$(AR) rcs $@ $^

$(PYFREEZE_OBJDIR)/%.o: $(PYFREEZE_OUT)/%.c
	@mkdir -p $(@D)
	@echo "CC $<"
	@$(CC) $(PYFREEZE_CFLAGS) -c -o $@ $<

$(PYFREEZE_OBJDIR)/pyfreeze_table.o $(PYFREEZE_OBJDIR)/pyfreeze_stock.o: $(PYFREEZE_OUT)/pyfreeze.h
# The runtime and its audit-hook half need Python.h (the other files are plain C).
$(PYFREEZE_OBJDIR)/pyfreeze_runtime.o $(PYFREEZE_OBJDIR)/pyfreeze_audit.o: $(PYFREEZE_OBJDIR)/%.o: $(PYFREEZE_OUT)/%.c $(PYFREEZE_OUT)/pyfreeze.h
	@mkdir -p $(@D)
	@echo "CC $<"
	@$(CC) $(PYFREEZE_CFLAGS) $(PYFREEZE_PY_CFLAGS) -I$(PYFREEZE_OUT) -c -o $@ $<

.DEFAULT_GOAL := $(PYFREEZE__DEFAULT_GOAL)
