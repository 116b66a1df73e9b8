"""Code whose local variable table a code-object writer must take from the compiler, not
rebuild from co_varnames, co_cellvars and co_freevars: frozen next to the stdlib in the
appliance builds (tests/appliance.rs), where check_marshal.py compares it with its marshalled
bytes, and run by check(). Also a name and a string that read like the deep-freezer's own
symbols (`const_str_<text>`), which its renaming must leave as they are."""

# A comprehension the compiler removed as unreachable: its variable is still a hidden fast
# local of the module's code (CO_FAST_LOCAL | CO_FAST_HIDDEN), with no instruction naming it.
if 0:
    [x for x in range(3)]


class Inlined:
    if 0:
        hidden = [q for q in range(3)]
    seen = [r for r in range(3)]
    names = sorted(k for k in locals() if not k.startswith("__"))


const_str_probe = "const_str_probe"


class Outer:
    def method(self):
        # X's body reads __class__ from method (a free variable) and gives its own
        # functions one (a cell): two entries of the same name.
        class X:
            x = __class__

            def f():
                return __class__

        return X


def check():
    assert Inlined.seen == [0, 1, 2]
    assert Inlined.names == ["seen"], Inlined.names
    X = Outer().method()
    assert X.x is Outer, X.x
    assert X.f() is X, X.f()
    assert "x" not in globals()
    # Compared with text made at run time (a constant would be the same object as the name).
    probe = "_".join(["const", "str", "probe"])
    assert const_str_probe == probe, const_str_probe
    assert probe in globals(), sorted(globals())
    print("deep cases ok")
