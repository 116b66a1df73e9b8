# Compiles the C files that pyfreeze generated into $(PYFREEZE_OUT) and links them into the
# relocatable object $(TARGET). Run by cpython.mk (installed as Tools/pyfreeze/objects.mk);
# not meant to be run by hand. The stock table and the stock-libpython runtime are left out:
# a patched CPython serves the extended table itself. deep/ holds the deep-frozen code
# (Tools/pyfreeze/deepfreeze.py): static CPython objects, compiled with CPython's internal
# headers.
include $(PYFREEZE_OUT)/sources.mk

PYFREEZE_C := $(filter-out pyfreeze_stock.c pyfreeze_runtime.c,$(PYFREEZE_GENERATED_C))
PYFREEZE_DEEP_C := $(if $(PYFREEZE_DEEPFREEZE_SUPPORTED),deep/table.c) \
	$(if $(filter yes,$(PYFREEZE_DEEPFREEZE)),$(patsubst modules/%,deep/%,$(filter modules/%,$(PYFREEZE_C))))
PYFREEZE_OBJS := $(patsubst %.c,$(PYFREEZE_OUT)/obj/%.o,$(PYFREEZE_C) $(PYFREEZE_DEEP_C))

$(TARGET): $(PYFREEZE_OBJS)
	@echo "LD -r $@ ($(words $^) objects)"
	@$(CC) -r -nostdlib -o $@ $^

$(PYFREEZE_OUT)/obj/deep/%.o: $(PYFREEZE_OUT)/deep/%.c
	@mkdir -p $(@D)
	@echo "CC $<"
	@$(CC) $(PYFREEZE_CFLAGS) $(PYFREEZE_CORE_CFLAGS) -c -o $@ $<

$(PYFREEZE_OUT)/obj/%.o: $(PYFREEZE_OUT)/%.c
	@mkdir -p $(@D)
	@echo "CC $<"
	@$(CC) $(PYFREEZE_CFLAGS) -c -o $@ $<
