# pyfreeze in CPython's own build: freezes the stdlib into the extended frozen-module table
# that libpython links as Python/frozen_ext.o. `pyfreeze cpython patch` installs this file as
# Tools/pyfreeze/cpython.mk, and the patched Makefile.pre.in includes it.
#
#   make PYFREEZE=/path/to/pyfreeze        the generator (default: `pyfreeze` on PATH)
#   make PYFREEZE_SPEC=my.toml             what to freeze (default: Tools/pyfreeze/stdlib.toml,
#                                          the whole pure stdlib minus tests)
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

PYFREEZE ?= pyfreeze
PYFREEZE_SPEC ?= $(srcdir)/Tools/pyfreeze/stdlib.toml
PYFREEZE_OUT = Python/frozen_ext
PYFREEZE_STAMP = $(PYFREEZE_OUT)/.stamp
PYFREEZE_CFLAGS ?= -O2

ifeq ($(PYTHON_FOR_FREEZE),./_bootstrap_python)
PYFREEZE_SYSCONFIGDATA = 1
endif

# (A new pyfreeze binary refreezes too, when PYFREEZE names a file.)
$(PYFREEZE_STAMP): $(PYFREEZE_SPEC) $(FREEZE_MODULE_DEPS) Makefile pyconfig.h $(srcdir)/Tools/pyfreeze/cpython.mk \
	    $(wildcard $(PYFREEZE))
	@command -v $(PYFREEZE) >/dev/null 2>&1 || { \
	    echo "error: the pyfreeze generator '$(PYFREEZE)' was not found; build it (cargo build --release -p pyfreeze-cli) and run make PYFREEZE=/path/to/pyfreeze" >&2; exit 1; }
	$(if $(PYFREEZE_SYSCONFIGDATA),$(PYTHON_FOR_FREEZE) -E -S $(srcdir)/Tools/pyfreeze/sysconfigdata.py)
	$(PYFREEZE) freeze --quiet --spec $(PYFREEZE_SPEC) --python $(PYTHON_FOR_FREEZE) \
	    --stdlib-dir $(srcdir)/Lib --origin-map $(srcdir)/Lib=$(LIBDEST) --out $(PYFREEZE_OUT) \
	    $(if $(PYFREEZE_SYSCONFIGDATA),--root "$$(cat pybuilddir.txt)" --include '_sysconfigdata_*' \
	        --origin-map "$$(cat pybuilddir.txt)=$(LIBDEST)") \
	    --depfile $(PYFREEZE_OUT)/deps.mk --depfile-target $(PYFREEZE_STAMP)
	@touch $@

-include $(PYFREEZE_OUT)/deps.mk

# The list of generated C files is only known after the generator ran, so a sub-make
# compiles them (and only the changed ones) and links them into one relocatable object.
Python/frozen_ext.o: $(PYFREEZE_STAMP) $(srcdir)/Tools/pyfreeze/objects.mk
	@$(MAKE) --no-print-directory -f $(srcdir)/Tools/pyfreeze/objects.mk \
	    PYFREEZE_OUT=$(PYFREEZE_OUT) PYFREEZE_CFLAGS="$(PYFREEZE_CFLAGS)" CC="$(CC)" TARGET=$@
	@touch $@

.PHONY: pyfreeze-clean
clean: pyfreeze-clean
pyfreeze-clean:
	-rm -rf $(PYFREEZE_OUT) Python/frozen_ext.o
