# pyfreeze in CPython's own build: freezes the stdlib into the extended frozen-module table
# that libpython links as Python/frozen_ext.o. `pyfreeze cpython patch` installs this file as
# Tools/pyfreeze/cpython.mk, and the patched Makefile.pre.in includes it.
#
#   make PYFREEZE=/path/to/pyfreeze        the generator (default: `pyfreeze` on PATH)
#   make PYFREEZE_SPEC=my.toml             what to freeze (default: Tools/pyfreeze/stdlib.toml,
#                                          the whole pure stdlib minus tests)
#   make PYFREEZE_DEEPFREEZE=no            keep only marshalled code (default: yes where the
#                                          patches support it, see below)
#
# The generator runs with $(PYTHON_FOR_FREEZE) (./_bootstrap_python, or the build Python of a
# cross build) over $(srcdir)/Lib, with origins mapped to the installed $(LIBDEST). A depfile
# lists every file and folder it read, so editing a stdlib file refreezes; it rewrites only the
# C files whose bytes change, and only those are recompiled.
#
# _sysconfigdata_*.py, which `sysconfig` imports, is not in Lib/: CPython generates it after
# linking python. In a native build it is generated first with ./_bootstrap_python (the same
# bytes) and frozen too, so an install whose lib/pythonX.Y was emptied still has sysconfig.
# A cross build leaves it on disk: the build Python would describe the wrong machine.
#
# Deep-freezing: Tools/pyfreeze/deepfreeze.py turns each module's code into static C objects
# with CPython's own deepfreeze.py (as CPython does for its start-up modules), so an import
# unmarshals nothing; Python/import.c uses them when the patch series supports it (it sets
# PYFREEZE_DEEPFREEZE_SUPPORTED). A module is deep-frozen again only when its code changed.
# The default is on for a native static build: deep-frozen objects are full of pointers, and
# in a position-independent binary each one is a relocation the dynamic loader applies at
# every start (about 670,000 for the stdlib: `python -c pass` 2.6x slower), so programs are
# linked -no-pie; a --enable-shared libpython cannot avoid them and keeps marshalled code.
# A deep-freezing build generates the table --no-bytecode: the rows hold no marshalled code
# (the deep-frozen objects serve it; code.bin keeps it for deepfreeze.py), 12 MB less for
# the 3.11 stdlib. Not where the patches serve deep-frozen code to the main interpreter only
# (3.13: PYFREEZE_DEEPFREEZE_KEEPS_BYTECODE): the other interpreters unmarshal. Where the
# patches name them (3.13: PYFREEZE_DEEPFREEZE_BOOTSTRAP, NAME=HEADER), CPython's bootstrap
# modules (_frozen_importlib..., unmarshalled at every start otherwise) are deep-frozen too,
# from the headers _freeze_module made.

PYFREEZE ?= pyfreeze
PYFREEZE_SPEC ?= $(srcdir)/Tools/pyfreeze/stdlib.toml
PYFREEZE_OUT = Python/frozen_ext
PYFREEZE_STAMP = $(PYFREEZE_OUT)/.stamp
PYFREEZE_CFLAGS ?= -O2
PYFREEZE_DEEPFREEZE ?= $(if $(and $(PYFREEZE_DEEPFREEZE_SUPPORTED),$(filter ./_bootstrap_python,$(PYTHON_FOR_FREEZE)),$(filter-out 1,$(PY_ENABLE_SHARED))),yes,no)

ifeq ($(PYFREEZE_DEEPFREEZE),yes)
ifneq ($(PYFREEZE_DEEPFREEZE_SUPPORTED),yes)
$(error PYFREEZE_DEEPFREEZE=yes: this CPython's pyfreeze patches do not serve deep-frozen code; use PYFREEZE_DEEPFREEZE=no)
endif
# The programs only (python, _testembed): PY_CORE_LDFLAGS is also in BLDSHARED, and a shared
# extension module linked -no-pie fails on every Python symbol, so `make` and the first steps
# of `make install` had no extension modules (compileall failed: no .pyc was installed).
LINKFORSHARED += -no-pie
endif

ifeq ($(PYTHON_FOR_FREEZE),./_bootstrap_python)
PYFREEZE_SYSCONFIGDATA = 1
endif

# `pyfreeze cpython build --static-extensions` defines PYFREEZE_STATIC_EXTENSIONS=1 in
# Modules/Setup.local (makesetup copies it into the Makefile): the series' getpath then needs
# no folder beside the executable. getpath.o alone gets the macro (`private`: not what its
# prerequisites are built with), so every other object is the one a shared-extension build
# compiles, and a compiler cache shares it.
Modules/getpath.o: private PY_CORE_CFLAGS += $(if $(PYFREEZE_STATIC_EXTENSIONS),-DPYFREEZE_STATIC_EXTENSIONS=$(PYFREEZE_STATIC_EXTENSIONS))

# The PYFREEZE_DEEPFREEZE setting of the last build: changing it reruns the stamp's recipe.
# (Outside $(PYFREEZE_OUT): the generator only writes into a folder that is its own.)
PYFREEZE_SETTING = $(PYFREEZE_OUT).deepfreeze
$(PYFREEZE_SETTING): pyfreeze-check-setting
	@:
.PHONY: pyfreeze-check-setting
pyfreeze-check-setting:
	@echo "$(PYFREEZE_DEEPFREEZE)" | cmp -s - $(PYFREEZE_SETTING) || echo "$(PYFREEZE_DEEPFREEZE)" > $(PYFREEZE_SETTING)

# (A new pyfreeze binary refreezes too, when PYFREEZE names a file.)
$(PYFREEZE_STAMP): $(PYFREEZE_SPEC) $(FREEZE_MODULE_DEPS) Makefile pyconfig.h $(srcdir)/Tools/pyfreeze/cpython.mk \
	    $(srcdir)/Tools/pyfreeze/deepfreeze.py $(PYFREEZE_SETTING) $(wildcard $(PYFREEZE)) \
	    $(if $(PYFREEZE_DEEPFREEZE_BOOTSTRAP),$(BOOTSTRAP_HEADERS))
	@command -v $(PYFREEZE) >/dev/null 2>&1 || { \
	    echo "error: the pyfreeze generator '$(PYFREEZE)' was not found; build it (cargo build --release -p pyfreeze-cli) and run make PYFREEZE=/path/to/pyfreeze" >&2; exit 1; }
	$(if $(PYFREEZE_SYSCONFIGDATA),$(PYTHON_FOR_FREEZE) -E -S $(srcdir)/Tools/pyfreeze/sysconfigdata.py)
	$(PYFREEZE) freeze --quiet --spec $(PYFREEZE_SPEC) --python $(PYTHON_FOR_FREEZE) \
	    --stdlib-dir $(srcdir)/Lib --origin-map $(srcdir)/Lib=$(LIBDEST) --out $(PYFREEZE_OUT) \
	    $(if $(PYFREEZE_SYSCONFIGDATA),--root "$$(cat pybuilddir.txt)" --include '_sysconfigdata_*' \
	        --origin-map "$$(cat pybuilddir.txt)=$(LIBDEST)") \
	    $(if $(filter yes,$(PYFREEZE_DEEPFREEZE)),$(if $(filter yes,$(PYFREEZE_DEEPFREEZE_KEEPS_BYTECODE)),,--no-bytecode)) \
	    --depfile $(PYFREEZE_OUT)/deps.mk --depfile-target $(PYFREEZE_STAMP)
	$(if $(PYFREEZE_DEEPFREEZE_SUPPORTED),$(PYTHON_FOR_FREEZE) -E -S $(srcdir)/Tools/pyfreeze/deepfreeze.py \
	    $(srcdir) $(PYFREEZE_OUT) $(if $(filter yes,$(PYFREEZE_DEEPFREEZE)),,--none) \
	    $(addprefix --bootstrap ,$(PYFREEZE_DEEPFREEZE_BOOTSTRAP)))
	@touch $@

-include $(PYFREEZE_OUT)/deps.mk

# The list of generated C files is only known after the generator ran, so a sub-make
# compiles them (and only the changed ones) and links them into one relocatable object.
Python/frozen_ext.o: $(PYFREEZE_STAMP) $(srcdir)/Tools/pyfreeze/objects.mk
	@$(MAKE) --no-print-directory -f $(srcdir)/Tools/pyfreeze/objects.mk \
	    PYFREEZE_OUT=$(PYFREEZE_OUT) PYFREEZE_CFLAGS="$(PYFREEZE_CFLAGS)" CC="$(CC)" TARGET=$@ \
	    PYFREEZE_DEEPFREEZE=$(PYFREEZE_DEEPFREEZE) PYFREEZE_DEEPFREEZE_SUPPORTED=$(PYFREEZE_DEEPFREEZE_SUPPORTED) \
	    PYFREEZE_CORE_CFLAGS="-DPy_BUILD_CORE -I$(srcdir)/Include -I$(srcdir)/Include/internal -I." \
	    PYFREEZE_PY_CFLAGS="$(CCSHARED) -I$(srcdir)/Include -I."
	@touch $@

.PHONY: pyfreeze-clean
clean: pyfreeze-clean
pyfreeze-clean:
	-rm -rf $(PYFREEZE_OUT) $(PYFREEZE_SETTING) Python/frozen_ext.o
