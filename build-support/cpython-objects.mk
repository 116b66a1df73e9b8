# Compiles the C files that pyfreeze generated into $(PYFREEZE_OUT) and links them into the
# relocatable object $(TARGET). Run by cpython.mk (installed as Tools/pyfreeze/objects.mk);
# not meant to be run by hand. The stock table is left out: a patched CPython serves the
# extended table itself. The stock-libpython runtime is compiled with PYFREEZE_PATCHED_CPYTHON
# and CPython's public headers: only its pack reader, for pack files on sys.path
# (`_imp._frozen_ext_packs()`), position-independent ($(PYFREEZE_PY_CFLAGS) has CCSHARED) as
# it calls the C API from a libpython that may be shared. deep/ holds the deep-frozen code
# (Tools/pyfreeze/deepfreeze.py): static CPython objects, compiled with CPython's internal
# headers.
include $(PYFREEZE_OUT)/sources.mk

PYFREEZE_C := $(filter-out pyfreeze_stock.c,$(PYFREEZE_GENERATED_C))
PYFREEZE_DEEP_C := $(if $(PYFREEZE_DEEPFREEZE_SUPPORTED),deep/table.c deep/strings.c) \
	$(if $(filter yes,$(PYFREEZE_DEEPFREEZE)),$(addprefix deep/,$(filter modules/%,$(PYFREEZE_C))) \
	    $(patsubst $(PYFREEZE_OUT)/%,%,$(wildcard $(PYFREEZE_OUT)/deep/cpython-bootstrap/*.c)))
PYFREEZE_OBJS := $(patsubst %.c,$(PYFREEZE_OUT)/obj/%.o,$(PYFREEZE_C) $(PYFREEZE_DEEP_C))

# In libpython the table's arrays, its source reader and the pack module are named as the
# series' Python/frozen.c expects (_PyFrozenExt_modules, ..., _PyFrozenExt_packs_module), and every
# other symbol of the generator (pyfreeze_m_*_code, the counts, ...) is local: libpython then
# exports only _Py names, and a program that links it with a pyfreeze table of its own
# (pyfreeze_modules, ...) keeps both.
PYFREEZE_OBJCOPY ?= $(shell $(CC) -print-prog-name=objcopy)
PYFREEZE__RENAMED := modules resources distributions dist_files source_size source_read packs_module

$(TARGET): $(PYFREEZE_OBJS)
	@echo "LD -r $@ ($(words $^) objects)"
	@$(CC) -r -nostdlib -o $@.tmp $^
	@$(PYFREEZE_OBJCOPY) $(foreach a,$(PYFREEZE__RENAMED),--redefine-sym pyfreeze_$(a)=_PyFrozenExt_$(a)) $@.tmp
	@$(PYFREEZE_OBJCOPY) --wildcard --localize-symbol='pyfreeze_*' $@.tmp
	@mv $@.tmp $@

# Deep-frozen objects are laid out by CPython's internal headers (the code object, the
# runtime's static strings): gcc's dependency files recompile them when one changes.
$(PYFREEZE_OUT)/obj/deep/%.o: $(PYFREEZE_OUT)/deep/%.c
	@mkdir -p $(@D)
	@echo "CC $<"
	@$(CC) $(PYFREEZE_CFLAGS) $(PYFREEZE_CORE_CFLAGS) -MMD -MP -c -o $@ $<

-include $(patsubst %.o,%.d,$(filter $(PYFREEZE_OUT)/obj/deep/%,$(PYFREEZE_OBJS)))

$(PYFREEZE_OUT)/obj/pyfreeze_runtime.o: $(PYFREEZE_OUT)/pyfreeze_runtime.c $(PYFREEZE_OUT)/pyfreeze.h
	@mkdir -p $(@D)
	@echo "CC $<"
	@$(CC) $(PYFREEZE_CFLAGS) $(PYFREEZE_PY_CFLAGS) -DPYFREEZE_PATCHED_CPYTHON -c -o $@ $<

$(PYFREEZE_OUT)/obj/%.o: $(PYFREEZE_OUT)/%.c
	@mkdir -p $(@D)
	@echo "CC $<"
	@$(CC) $(PYFREEZE_CFLAGS) -c -o $@ $<
