"""pyfreeze runtime: importlib behaviour for the modules of pyfreeze's extended frozen table.

It serves two kinds of interpreter:

- a stock libpython: `install(table)` is called by pyfreeze_runtime.c with the `_pyfreeze`
  module. It puts `PyfreezeImporter` in `sys.meta_path` just before `FrozenImporter` (each
  module it finds gets a `PyfreezeLoader` instance as its loader), adds a path hook for the
  folders of frozen packages, repairs modules that `FrozenImporter` loaded before it, and on
  3.10-3.12 installs an excepthook that prints source lines. So the table comes after the
  built-in modules and before CPython's own frozen modules and `sys.path`; only the modules of
  roots with `precedence = "path"` give way to a copy on `sys.path` (`_installed_spec`), with
  their distributions' metadata. Packs (docs/packs.md) added from C come before the table, the
  last added first; a pack file on `sys.path` serves its modules from there (`_pack_path_hook`);
- a CPython patched by pyfreeze, whose own `FrozenImporter` finds the table's modules and
  gives each a `FrozenExtLoader` (a `_bootstrap` class) instance: it calls `attach_cpython()`
  and uses `resource_reader`, `get_data`, `path_entry_finder` and `find_distributions` from
  here, over the `_imp._frozen_ext_*` accessors; its first path hook hands files to
  `_pack_path_hook`, which reads packs with the pack reader `_imp._frozen_ext_packs()` gives.

This module may run while the interpreter is still initialising: at module level it only uses
builtin modules and `_frozen_importlib`; everything else is imported lazily.
"""

import sys
import _frozen_importlib as _bootstrap

# The flag bits of the table's rows, as the table declares them (`PYFREEZE_PACKAGE` and
# `PYFREEZE_NAMESPACE` of pyfreeze.h): set by install() or attach_cpython().
_PACKAGE = None
_NAMESPACE = None
_table = None  # the `_pyfreeze` module, or `_ImpTable` in a patched CPython; `_Chain` with packs
# What PyfreezeImporter searches: the packs added from C, then the linked table. `_table` adds
# the packs opened from `sys.path` (for loaders, resources, metadata and package folders).
_finder_table = None
_linked = None  # the linked table: the `_pyfreeze` module, or `_ImpTable` in a patched CPython
# The pack reader (pyfreeze_runtime.c): the `_pyfreeze` module, or in a patched CPython the one
# `_imp._frozen_ext_packs()` makes when a pack file is first seen on `sys.path`.
_packs = None
_path_packs = []  # `_PackTable`s opened by the path hook, in the order opened
_pack_tables = {}  # handle -> its `_PackTable`
# The class of table modules' loaders, one instance per module, made as `_Loader(name, origin)`:
# PyfreezeLoader, or the patched CPython's FrozenExtLoader.
_Loader = None
_children = None  # package name -> ((child, is_package), ...), built on first use
# Roots whose installed copies win (`precedence = "path"`), from the table's `path_first()`:
# top-level module -> its distributions' folders, and folder -> its top-level modules.
_path_first_modules = None
_path_first_dists = None


def _dirname(path):
    return path.rpartition("/")[0]


def _cached(origin):
    """`cache_from_source(origin)`, what importlib's `spec.cached` computes for a table
    module, in the case every table module is in (an origin `DIR/NAME.py`, no `-O`, no
    `sys.pycache_prefix`), or None to leave it to importlib. importlib's general path
    handling costs more than the rest of the spec (about 18,000 instructions a module).
    (The patched CPython's `_frozen_ext_cached` in `_bootstrap.py` is the same.)"""
    if sys.flags.optimize or sys.pycache_prefix is not None or not origin.endswith(".py"):
        return None
    tag = sys.implementation.cache_tag
    head, _, tail = origin.rpartition("/")
    if tag is None or not head or head[-1] == "/" or tail == ".py":
        return None
    return f"{head}/__pycache__/{tail[:-3]}.{tag}.pyc"


def _set_location(module, spec):
    """`__file__` and `__cached__`, as importlib's `_init_module_attrs` sets them."""
    module.__file__ = spec.origin
    cached = spec.cached
    if cached is not None:
        module.__cached__ = cached


def _make_spec(name, flags, origin, pack=None):
    """The spec of a table module: the same, field by field, as the one that a patched
    CPython's FrozenImporter._frozen_ext_spec() makes (tests/cpython.rs compares them). With
    `pack`, its loader serves the module from that pack (a pack file on `sys.path`)."""
    loader = _Loader(name, origin) if pack is None else PyfreezeLoader(name, origin, pack)
    if flags & _NAMESPACE:
        # A namespace package: the origin is its folder.
        spec = _bootstrap.ModuleSpec(name, loader, origin=None, is_package=True)
        spec.submodule_search_locations = [origin]
        filename = None
    else:
        is_package = bool(flags & _PACKAGE)
        spec = _bootstrap.ModuleSpec(name, loader, origin=origin, is_package=is_package)
        spec.has_location = True
        cached = _cached(origin)
        if cached is not None:
            spec.cached = cached
        filename = origin
        if is_package:
            spec.submodule_search_locations = [_dirname(origin)]
    spec.loader_state = type(sys.implementation)(filename=filename, origname=name, origin=origin)
    return spec


def _table_of(name):
    """The table that serves the imported module `name` (and its data and submodules): the
    one its loader was bound to when packs are in play, else `_table`."""
    loader = getattr(getattr(sys.modules.get(name), "__spec__", None), "loader", None)
    if isinstance(loader, PyfreezeLoader):
        return loader._t
    return _table


def _children_of(package):
    global _children
    table = _table_of(package)
    if _children is None:
        _children = {}
    by_parent = _children.get(table)
    if by_parent is None:
        children = {}
        for name, flags, _origin in table.modules():
            parent, _, child = name.rpartition(".")
            children.setdefault(parent, []).append((child, bool(flags & _PACKAGE)))
        by_parent = _children[table] = {k: tuple(v) for k, v in children.items()}
    return by_parent.get(package, ())


def _register_lines(name, origin):
    """Lets linecache find the source of `origin` even without module globals (warnings)."""
    # While linecache itself is being imported its `cache` does not exist yet; exec_module
    # registers everything loaded so far once linecache is complete.
    cache = getattr(sys.modules.get("linecache"), "cache", None)
    if cache is not None and origin not in cache:
        cache[origin] = (lambda: _source_text(name, _table_of(name)),)


def _path_first():
    """(top-level module -> folders, folder -> top-level modules) of the roots whose
    installed copies win; empty in a patched CPython, whose table has no such rows."""
    global _path_first_modules, _path_first_dists
    if _path_first_modules is None:
        rows = getattr(_table, "path_first", None)
        modules, dists = {}, {}
        for module, folder in rows() if rows is not None else ():
            if module:
                modules.setdefault(module, [])
                if folder:
                    modules[module].append(folder)
            if folder:
                dists.setdefault(folder, [])
                if module:
                    dists[folder].append(module)
        _path_first_modules, _path_first_dists = modules, dists
    return _path_first_modules, _path_first_dists


def _from_table(module):
    """Whether `module` came from the linked table (not a pack, not a file)."""
    loader = getattr(getattr(module, "__spec__", None), "loader", None)
    return isinstance(loader, _Loader) and loader.__dict__.get("_pack", _linked) is _linked


def _installed_spec(fullname, path):
    """For a module of a root whose installed copies win: the spec of the copy on `sys.path`
    that wins, or None when the table's copy serves.

    A top-level name is looked up on `sys.path` by PathFinder: a module or regular package
    found there wins; a namespace portion does not (as a regular package anywhere on
    `sys.path` beats namespace portions). A submodule follows its package: the table's
    package has the table's submodules; an installed one has its own, or none."""
    parent_name = fullname.rpartition(".")[0]
    PathFinder = _bootstrap._bootstrap_external.PathFinder
    if parent_name:
        if _from_table(sys.modules.get(parent_name)):
            return None
        spec = PathFinder.find_spec(fullname, path)
        if spec is None:
            # FrozenImporter, next in sys.meta_path, would find the table's copy.
            raise ModuleNotFoundError("No module named %r" % (fullname,), name=fullname)
        return spec
    spec = PathFinder.find_spec(fullname, None)
    if spec is None or (spec.origin is None and spec.submodule_search_locations is not None):
        return None
    return spec


def _installed_wins(top):
    """Whether the top-level module `top` (of a root whose installed copies win) is, or
    would be, imported from `sys.path` rather than from the table."""
    module = sys.modules.get(top)
    if module is not None:
        return not _from_table(module)
    return _installed_spec(top, None) is not None


def _gives_way(folder):
    """Whether the frozen distribution `folder` gives way to an installed one: it belongs to
    a root whose installed copies win and one of its modules imports from `sys.path` (for a
    distribution without modules: one of its name is installed there), so `importlib.metadata`
    describes the module that imports."""
    modules = _path_first()[1].get(folder)
    if modules is None:
        return False
    if modules:
        return any(_installed_wins(top) for top in modules)
    from importlib.metadata import DistributionFinder

    context = DistributionFinder.Context(name=_dist_name(folder))
    return any(True for _ in _bootstrap._bootstrap_external.PathFinder.find_distributions(context))


class PyfreezeImporter:
    """Finder for the modules of pyfreeze's extended table (stock libpython). Each module it
    finds gets a loader of its own, a `PyfreezeLoader`."""

    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        info = _finder_table.find(fullname)
        if info is None:
            if "\0" in fullname and _finder_table.find(fullname.partition("\0")[0]) is not None:
                # FrozenImporter, next in sys.meta_path, also sees the table (through
                # PyImport_FrozenModules) and compares C strings: before 3.13 it would load
                # "string\0" as a second copy of `string`.
                raise ModuleNotFoundError("No module named %r" % (fullname,), name=fullname)
            return None
        if fullname.partition(".")[0] in _path_first()[0]:
            spec = _installed_spec(fullname, path)
            if spec is not None:
                return spec
        if _finder_table is _linked:
            return _make_spec(fullname, *info)
        # With packs added from C, the loader keeps the table that has the module now: a
        # pack added later does not change where its source and data come from.
        return _make_spec(fullname, *info, pack=_finder_table.owner(fullname))

    @classmethod
    def invalidate_caches(cls):
        pass

    @classmethod
    def find_distributions(cls, context=None):
        """importlib.metadata: the distributions whose metadata is frozen in the table."""
        return find_distributions(context)


def _source_text(name, table=None):
    data = (table or _table).get_source(name)
    if data is None:
        return None
    return _bootstrap._bootstrap_external.decode_source(data)


class PyfreezeLoader(_bootstrap.FrozenImporter):
    """The loader of one table module, as a SourceFileLoader is of one file: `name` is the
    module's name, `path` its origin (a namespace package's folder). It implements the
    loader, InspectLoader, ExecutionLoader and resource-reader protocols over the table.

    It derives from FrozenImporter only because importlib.abc registers that class as a
    Loader and InspectLoader (this module cannot import importlib.abc while the interpreter
    initialises); every method a loader has is its own, and it finds nothing."""

    def __init__(self, name, path, pack=None):
        self.name = name
        self.path = path
        if pack is not None:
            self._pack = pack  # a pack file on sys.path; else the runtime's tables

    @property
    def _t(self):
        return self.__dict__.get("_pack") or _table

    def __eq__(self, other):
        return self.__class__ == other.__class__ and self.__dict__ == other.__dict__

    def __hash__(self):
        return hash(self.name) ^ hash(self.path)

    def __repr__(self):
        return "<%s %r from %r>" % (type(self).__name__, self.name, self.path)

    def _own(self, fullname):
        """The table name that `fullname` stands for: itself, or this loader's module when
        `fullname` is the name runpy ran it under (`__main__`); else None."""
        if self._t.find(fullname) is not None:
            return fullname
        spec = getattr(sys.modules.get(fullname), "__spec__", None)
        if spec is not None and spec.loader == self:
            return self.name
        return None

    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        """A loader, not a finder: PyfreezeImporter finds table modules."""
        return None

    def create_module(self, spec):
        # What _init_module_attrs would set, set first: it only sets `__file__` and
        # `__cached__` after looking them up on the module, and on 3.10 and 3.11 each failed
        # lookup raises and formats an AttributeError (about 15,000 instructions).
        if not spec.has_location:
            return None
        module = type(sys)(spec.name)
        _set_location(module, spec)
        return module

    def exec_module(self, module):
        name = module.__spec__.name
        origin = module.__spec__.origin
        if origin is not None:
            _register_lines(name, origin)
        _bootstrap._call_with_frames_removed(exec, self._t.get_code(name), module.__dict__)
        if name == "linecache":
            for other, flags, other_origin in _table.modules():
                if other in sys.modules and not flags & _NAMESPACE:
                    _register_lines(other, other_origin)

    # The traceback of a failed import loses importlib's frames: CPython's import.c drops each
    # run of frames whose file is importlib's that ends in `_call_with_frames_removed`.
    # exec_module sits inside that run, so it bears importlib's file name; with its own, every
    # failed import would show this frame between the importer's and the module's.
    exec_module.__code__ = exec_module.__code__.replace(
        co_filename=_bootstrap._call_with_frames_removed.__code__.co_filename
    )

    def load_module(self, fullname):
        return _bootstrap._load_module_shim(self, fullname)

    def module_repr(self, module):
        # 3.10 asks the loader first; FrozenImporter's would say "(frozen)".
        return _bootstrap._module_repr_from_spec(module.__spec__)

    def get_code(self, fullname):
        return self._t.get_code(self._own(fullname) or fullname)

    def get_source(self, fullname):
        name = self._own(fullname)
        return None if name is None else _source_text(name, self._t)

    def is_package(self, fullname):
        info = self._t.find(self._own(fullname) or fullname)
        if info is None:
            raise ImportError("no frozen module named %r" % (fullname,), name=fullname)
        return bool(info[0] & _PACKAGE)

    def get_filename(self, fullname):
        info = self._t.find(self._own(fullname) or fullname)
        if info is None or info[0] & _NAMESPACE:
            raise ImportError("no frozen module file for %r" % (fullname,), name=fullname)
        return info[1]

    def get_data(self, path):
        return get_data(path, self._t)

    def get_resource_reader(self, fullname):
        return resource_reader(self._own(fullname) or fullname)


def _below_package(path, table=None):
    """The nearest frozen package whose folder is above `path`, and `path` relative to that
    folder; (None, None) when there is none."""
    head = path
    while True:
        head, sep, _ = head.rpartition("/")
        if not sep:
            return None, None
        package = (table or _table).package_at(head)
        if package is not None:
            return package, path[len(head) + 1:]


def _package_data(path, table=None):
    """The bytes of the frozen package data file at `path`, or None."""
    package, rel = _below_package(path, table)
    if package is None:
        return None
    try:
        return (table or _table_of(package)).read_resource(package, rel)
    except FileNotFoundError:
        return None


def get_data(path, table=None):
    """Data files of frozen packages come from the table (`table`: a loader's); other paths
    from disk."""
    data = _package_data(path, table)
    if data is not None:
        return data
    import _io

    with _io.open_code(path) as f:
        return f.read()


def resource_reader(fullname):
    """The importlib.resources reader of a frozen package, or None."""
    info = _table_of(fullname).find(fullname)
    if info is None or not info[0] & _PACKAGE:
        return None
    _register_traversable()
    return _ResourceReader(fullname)


# -- importlib.resources ---------------------------------------------------------------------


def _register_traversable():
    try:
        from importlib.resources.abc import Traversable, TraversableResources  # 3.11+
    except ImportError:
        from importlib.abc import Traversable, TraversableResources  # 3.10
    Traversable.register(_Traversable)
    TraversableResources.register(_ResourceReader)


class _Traversable:
    """A file or folder of frozen package data (importlib.resources.abc.Traversable)."""

    def __init__(self, package, rel):
        self._package = package
        self._rel = rel

    @property
    def name(self):
        return self._rel.rpartition("/")[2] if self._rel else self._package.rpartition(".")[2]

    # The name's parts, as pathlib.PurePath (3.10-3.13) and zipfile.Path (3.11+) give them:
    # packages go through a folder's files by `suffix` (pyphen's dictionaries).
    @property
    def suffix(self):
        name = self.name
        i = name.rfind(".")
        return name[i:] if 0 < i < len(name) - 1 else ""

    @property
    def suffixes(self):
        name = self.name
        if name.endswith("."):
            return []
        return ["." + suffix for suffix in name.lstrip(".").split(".")[1:]]

    @property
    def stem(self):
        name = self.name
        i = name.rfind(".")
        return name[:i] if 0 < i < len(name) - 1 else name

    def __repr__(self):
        return "<frozen data %s:%s>" % (self._package, self._rel)

    # Equal, hashable and ordered by where they are, as pathlib's paths are (packages sort a
    # folder's `iterdir()`).
    def _key(self):
        return tuple(self._package.split(".")) + tuple(self._rel.split("/") if self._rel else ())

    def __eq__(self, other):
        return isinstance(other, _Traversable) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __lt__(self, other):
        return self._key() < other._key() if isinstance(other, _Traversable) else NotImplemented

    def __le__(self, other):
        return self._key() <= other._key() if isinstance(other, _Traversable) else NotImplemented

    def __gt__(self, other):
        return self._key() > other._key() if isinstance(other, _Traversable) else NotImplemented

    def __ge__(self, other):
        return self._key() >= other._key() if isinstance(other, _Traversable) else NotImplemented

    def _files(self):
        return _table_of(self._package).resources(self._package)

    def iterdir(self):
        prefix = self._rel + "/" if self._rel else ""
        seen = set()
        for path in self._files():
            if path.startswith(prefix):
                head = path[len(prefix):].partition("/")[0]
                if head not in seen:
                    seen.add(head)
                    yield _Traversable(self._package, prefix + head)
        if not self._rel:
            for child, is_package in _children_of(self._package):
                if is_package and child not in seen:
                    seen.add(child)
                    yield _Traversable(self._package + "." + child, "")

    def is_file(self):
        return self._rel in self._files()

    def is_dir(self):
        if not self._rel:
            return True
        prefix = self._rel + "/"
        return any(p.startswith(prefix) for p in self._files())

    def joinpath(self, *descendants):
        package, rel = self._package, self._rel
        for part in "/".join(descendants).split("/"):
            if not part or part == ".":
                continue
            if not rel and (part, True) in _children_of(package):
                package = package + "." + part
            else:
                rel = rel + "/" + part if rel else part
        return _Traversable(package, rel)

    __truediv__ = joinpath

    def open(self, mode="r", *args, **kwargs):
        import io

        data = io.BytesIO(_table_of(self._package).read_resource(self._package, self._rel))
        if "b" in mode:
            return data
        return io.TextIOWrapper(data, *args, **kwargs)

    def read_bytes(self):
        return _table_of(self._package).read_resource(self._package, self._rel)

    def read_text(self, encoding=None):
        with self.open(encoding=encoding) as f:
            return f.read()


class _ResourceReader:
    """A TraversableResources (registered as one), with the ResourceReader methods 3.10 still
    calls: the data of a frozen package, or of a data folder in it (`rel`, see
    `_DataFolderLoader`)."""

    def __init__(self, package, rel=""):
        self._package = package
        self._prefix = rel + "/" if rel else ""

    def files(self):
        return _Traversable(self._package, self._prefix[:-1])

    def open_resource(self, resource):
        import io

        return io.BytesIO(_table_of(self._package).read_resource(self._package, self._prefix + resource))

    def resource_path(self, resource):
        raise FileNotFoundError(resource)

    def is_resource(self, path):
        return self._prefix + path in _table_of(self._package).resources(self._package)

    def contents(self):
        n = len(self._prefix)
        files = _table_of(self._package).resources(self._package)
        return iter(sorted({p[n:].partition("/")[0] for p in files if p.startswith(self._prefix)}))


def _is_data_folder(package, rel):
    """Whether the frozen package's data has files under the folder `rel`."""
    prefix = rel + "/"
    return any(p.startswith(prefix) for p in _table_of(package).resources(package))


class _DataFolderLoader:
    """The loader of a folder of package data that holds no Python file, imported as a module.
    From files CPython imports such a folder as a namespace package, so packages name their
    data by it (`importlib.resources.files("pyphen.dictionaries")`); frozen, it is an empty
    package (no `__file__`, `__path__` the folder) whose resources are the folder's files."""

    def __init__(self, package, rel, path):
        self.name = package + "." + rel.replace("/", ".")
        self.path = path
        self._package = package
        self._rel = rel

    def __repr__(self):
        return "<%s %r from %r>" % (type(self).__name__, self.name, self.path)

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        pass

    def is_package(self, fullname):
        return True

    def get_source(self, fullname):
        return ""

    def get_code(self, fullname):
        return compile("", "<string>", "exec", dont_inherit=True)

    def get_resource_reader(self, fullname):
        _register_traversable()
        return _ResourceReader(self._package, self._rel)


# -- importlib.metadata ----------------------------------------------------------------------

_Distribution = None  # the class, made on first use (importlib.metadata is imported by then)


def _distribution_class():
    global _Distribution
    if _Distribution is None:
        import importlib.metadata

        class PyfreezeDistribution(importlib.metadata.Distribution):
            """A distribution whose metadata folder (`*.dist-info`, `*.egg-info`) is frozen in
            the table. `files` locate to their frozen origins, the paths of `__file__`."""

            def __init__(self, folder, origin):
                self._folder = folder
                self._origin = origin
                self._path = _FrozenPath(origin)  # as PathDistribution's

            def __repr__(self):
                return "<frozen distribution %s at %r>" % (self._folder, self._origin)

            def read_text(self, filename):
                try:
                    data = _table.read_dist_file(self._folder, str(filename))
                except FileNotFoundError:
                    return None
                # As a file read in text mode (pip writes RECORD with "\r\n").
                return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")

            read_text.__doc__ = importlib.metadata.Distribution.read_text.__doc__

            def locate_file(self, path):
                return _FrozenPath(_dirname(self._origin) + "/" + str(path))

        _Distribution = PyfreezeDistribution
    return _Distribution


_by_origin = None  # origin -> name of every table module with a file


def _frozen_file(path):
    """The bytes of what the table holds at `path` (a module's source, package data, a
    metadata file); b"" for a module whose source is not embedded; None when it holds
    nothing there."""
    global _by_origin
    if _by_origin is None:
        _by_origin = {o: n for n, flags, o in _table.modules() if not flags & _NAMESPACE}
    name = _by_origin.get(path)
    if name is not None:
        return _table.get_source(name) or b""
    data = _package_data(path)
    if data is not None:
        return data
    for folder, origin in _table.distributions():
        if path.startswith(origin + "/"):
            try:
                return _table.read_dist_file(folder, path[len(origin) + 1:])
            except FileNotFoundError:
                return None
    return None


class _FrozenPath:
    """Where the `files()` entries of a frozen distribution locate: the path of the file as
    frozen (a module's origin is its `__file__`). `exists()`, `open()` and `read_*()` serve
    what the table holds there, and any other path from disk."""

    def __init__(self, path):
        self._path = path

    def __str__(self):
        return self._path

    def __fspath__(self):
        return self._path

    def __repr__(self):
        return "<frozen path %r>" % (self._path,)

    def __eq__(self, other):
        return isinstance(other, _FrozenPath) and other._path == self._path

    def __hash__(self):
        return hash(self._path)

    @property
    def name(self):
        return self._path.rpartition("/")[2]

    @property
    def parent(self):
        return _FrozenPath(_dirname(self._path) or "/")

    def joinpath(self, *other):
        return _FrozenPath("/".join((self._path,) + tuple(str(o) for o in other)))

    __truediv__ = joinpath

    def exists(self):
        import os

        return _frozen_file(self._path) is not None or os.path.exists(self._path)

    def is_file(self):
        import os

        return _frozen_file(self._path) is not None or os.path.isfile(self._path)

    def read_bytes(self):
        data = _frozen_file(self._path)
        if data is not None:
            return data
        with open(self._path, "rb") as f:
            return f.read()

    def open(self, mode="r", *args, **kwargs):
        import io

        data = io.BytesIO(self.read_bytes())
        if "b" in mode:
            return data
        return io.TextIOWrapper(data, *args, **kwargs)

    def read_text(self, encoding=None):
        with self.open(encoding=encoding) as f:
            return f.read()


def _dist_name(folder):
    """The project name a metadata folder's name starts with (`attrs-23.2.0.dist-info`)."""
    return folder.rpartition(".")[0].partition("-")[0]


def find_distributions(context=None):
    """The table's distributions that `context` (importlib.metadata's
    DistributionFinder.Context) asks for: by name, or all; when it names folders to search
    (`path`), those frozen from one of them."""
    rows = _table.distributions()
    if not rows:
        return iter(())
    cls = _distribution_class()
    from importlib.metadata import Prepared

    name = getattr(context, "name", None)
    wanted = None if name is None else Prepared.normalize(name)
    folders = vars(context).get("path") if context is not None else None
    return iter(
        [
            cls(folder, origin)
            for folder, origin in rows
            if (wanted is None or Prepared.normalize(_dist_name(folder)) == wanted)
            and (folders is None or _dirname(origin) in folders)
            and not _gives_way(folder)
        ]
    )


# -- pkgutil.iter_modules --------------------------------------------------------------------


class _PathEntryFinder:
    """Path-entry finder for the folder of a frozen package (or of a data folder in it, `rel`):
    lists frozen submodules for pkgutil, finds the data folders without Python files that
    CPython would import as namespace packages, and hands names it does not hold to a
    FileFinder over the real folder."""

    def __init__(self, path, package, rel=""):
        self.path = path
        self.package = package
        self._rel = rel
        self._disk = False

    def _disk_finder(self):
        if self._disk is False:
            self._disk = None
            external = _bootstrap._bootstrap_external
            if external._path_isdir(self.path):
                self._disk = external.FileFinder(self.path, *external._get_supported_file_loaders())
        return self._disk

    def find_spec(self, fullname, target=None):
        parent, _, child = fullname.rpartition(".")
        if not self._rel:
            table = _table_of(self.package)
            info = table.find(fullname)
            if info is not None and parent == self.package:
                # The loader keeps the table that has the module (the chain's owner: the linked
                # table's loader, or one bound to its pack).
                owner = table.owner(fullname) if isinstance(table, _Chain) else table
                return _make_spec(fullname, *info, pack=None if owner is _linked else owner)
        disk = self._disk_finder()
        spec = disk.find_spec(fullname, target) if disk is not None else None
        if spec is None:
            rel = self._rel + "/" + child if self._rel else child
            if _is_data_folder(self.package, rel):
                path = self.path + "/" + child
                loader = _DataFolderLoader(self.package, rel, path)
                spec = _bootstrap.ModuleSpec(fullname, loader, origin=None, is_package=True)
                spec.submodule_search_locations = [path]
        return spec

    def invalidate_caches(self):
        disk = self._disk_finder()
        if disk is not None:
            disk.invalidate_caches()

    def iter_modules(self, prefix=""):
        seen = set()
        for child, is_package in () if self._rel else _children_of(self.package):
            seen.add(child)
            yield prefix + child, is_package
        disk = self._disk_finder()
        if disk is not None:
            import pkgutil

            for name, is_package in pkgutil.iter_importer_modules(disk, prefix):
                if name[len(prefix):] not in seen:
                    yield name, is_package


def path_entry_finder(path):
    """The path-entry finder for `path` if it is a frozen package's folder or a data folder in
    one, else None."""
    package = _table.package_at(path)
    if package is not None:
        return _PathEntryFinder(path, package)
    package, rel = _below_package(path)
    if package is None or not _is_data_folder(package, rel):
        return None
    return _PathEntryFinder(path, package, rel)


def _path_hook(path):
    finder = path_entry_finder(path)
    if finder is None:
        raise ImportError("not the folder of a frozen package", path=path)
    return finder


# -- stock libpython -------------------------------------------------------------------------


def _excepthook(exc_type, value, tb):
    """3.10-3.12 print uncaught exceptions in C, which reads source lines from files only;
    print through `traceback`, which asks the loader."""
    try:
        import traceback

        traceback.print_exception(exc_type, value, tb)
    except BaseException:
        sys.__excepthook__(exc_type, value, tb)


def _fix_up(name, module, flags, origin):
    spec = _make_spec(name, flags, origin)
    module.__spec__ = spec
    module.__loader__ = spec.loader
    if spec.has_location:
        _set_location(module, spec)
    if spec.submodule_search_locations is not None:
        module.__path__ = spec.submodule_search_locations


def install(table):
    """Stock libpython: serve `table` (the `_pyfreeze` module) with PyfreezeImporter."""
    global _linked, _packs, _Loader, _PACKAGE, _NAMESPACE
    _linked = _packs = table
    _rebuild()
    _Loader = PyfreezeLoader
    _PACKAGE, _NAMESPACE = table.PACKAGE, table.NAMESPACE
    meta_path = sys.meta_path
    if PyfreezeImporter in meta_path:
        return
    position = len(meta_path)
    for i, finder in enumerate(meta_path):
        if finder is _bootstrap.FrozenImporter:
            position = i
            break
    meta_path.insert(position, PyfreezeImporter)
    sys.path_hooks.insert(0, _path_hook)
    sys.path_hooks.insert(0, _pack_path_hook)
    sys.path_importer_cache.clear()
    for name, module in list(sys.modules.items()):
        info = table.find(name)
        if info is not None and not isinstance(getattr(module, "__loader__", None), PyfreezeLoader):
            _fix_up(name, module, *info)
    if sys.version_info < (3, 13) and sys.excepthook is sys.__excepthook__:
        sys.excepthook = _excepthook


# -- packs -----------------------------------------------------------------------------------


class _PackTable:
    """The `_pyfreeze` interface over one pack (a handle of the runtime's C half)."""

    def __init__(self, handle):
        self.handle = handle
        self.name = _packs.pack_name(handle)

    def __repr__(self):
        return "<pyfreeze pack %r>" % (self.name,)

    def find(self, name):
        return _packs.find(name, self.handle)

    def get_code(self, name):
        return _packs.get_code(name, self.handle)

    def get_source(self, name):
        return _packs.get_source(name, self.handle)

    def modules(self):
        return _packs.modules(self.handle)

    def resources(self, name):
        return _packs.resources(name, self.handle)

    def read_resource(self, name, path):
        return _packs.read_resource(name, path, self.handle)

    def package_at(self, path):
        return _packs.package_at(path, self.handle)

    def distributions(self):
        return _packs.distributions(self.handle)

    def dist_files(self, name):
        return _packs.dist_files(name, self.handle)

    def read_dist_file(self, name, path):
        return _packs.read_dist_file(name, path, self.handle)

    def path_first(self):
        return ()


class _Chain:
    """Tables searched in order (packs and the linked table): the first that has a module, a
    package folder or a distribution serves it."""

    def __init__(self, tables):
        self.tables = tables

    def owner(self, name):
        """The first table that has module `name`, or None."""
        for table in self.tables:
            if table.find(name) is not None:
                return table
        return None

    def _owner(self, name):
        # The last table raises the ImportError of a missing module.
        return self.owner(name) or self.tables[-1]

    def find(self, name):
        for table in self.tables:
            info = table.find(name)
            if info is not None:
                return info
        return None

    def get_code(self, name):
        return self._owner(name).get_code(name)

    def get_source(self, name):
        return self._owner(name).get_source(name)

    def modules(self):
        seen, rows = set(), []
        for table in self.tables:
            for row in table.modules():
                if row[0] not in seen:
                    seen.add(row[0])
                    rows.append(row)
        return tuple(rows)

    def resources(self, name):
        return self._owner(name).resources(name)

    def read_resource(self, name, path):
        return self._owner(name).read_resource(name, path)

    def package_at(self, path):
        for table in self.tables:
            package = table.package_at(path)
            if package is not None:
                return package
        return None

    def distributions(self):
        seen, rows = set(), []
        for table in self.tables:
            for row in table.distributions():
                if row[0] not in seen:
                    seen.add(row[0])
                    rows.append(row)
        return tuple(rows)

    def _dist_owner(self, folder):
        for table in self.tables:
            if any(name == folder for name, _origin in table.distributions()):
                return table
        return self.tables[-1]

    def dist_files(self, folder):
        return self._dist_owner(folder).dist_files(folder)

    def read_dist_file(self, folder, path):
        return self._dist_owner(folder).read_dist_file(folder, path)

    def path_first(self):
        rows = getattr(_linked, "path_first", None)  # the stock runtime's table only
        return rows() if rows is not None else ()


def _pack_table(handle):
    table = _pack_tables.get(handle)
    if table is None:
        table = _pack_tables[handle] = _PackTable(handle)
    return table


def _rebuild():
    """Puts the packs in the chains: those added from C (the last added first) before the
    linked table; those opened from `sys.path` after it in `_table` only."""
    global _table, _finder_table, _children, _by_origin
    front = tuple(_pack_table(h) for h in _packs.front_packs()) if _packs is not None else ()
    _finder_table = _Chain(front + (_linked,)) if front else _linked
    everything = front + (_linked,) + tuple(_path_packs)
    _table = _Chain(everything) if len(everything) > 1 else _linked
    _children = None
    _by_origin = None


def _packs_changed():
    """Called by the C half after a pack was added with the interpreter running."""
    _rebuild()
    sys.path_importer_cache.clear()


class _PackFinder:
    """Path-entry finder for a pack file on `sys.path`: its modules, as the linked table
    serves its own (the same loaders, origins and packages)."""

    def __init__(self, path, pack):
        self.path = path
        self.pack = pack

    def __repr__(self):
        return "<pyfreeze pack finder %r>" % (self.path,)

    def find_spec(self, fullname, target=None):
        info = self.pack.find(fullname)
        if info is None:
            return None
        return _make_spec(fullname, *info, pack=self.pack)

    def invalidate_caches(self):
        pass

    def iter_modules(self, prefix=""):
        for name, flags, _origin in self.pack.modules():
            if "." not in name:
                yield prefix + name, bool(flags & _PACKAGE)


_PACK_SIGNATURE = b"PYFZ\r\n\x1a\n"


class _BadPackFinder:
    """Path-entry finder for a file with the pack signature that is not a good pack: it serves
    nothing (another hook, zipimporter, could take a pack holding a zip file for that zip)."""

    def __init__(self, path):
        self.path = path

    def __repr__(self):
        return "<pyfreeze bad pack finder %r>" % (self.path,)

    def find_spec(self, fullname, target=None):
        return None

    def invalidate_caches(self):
        pass

    def iter_modules(self, prefix=""):
        return iter(())


def _pack_path_hook(path):
    """A `sys.path` entry that is a pack file (it starts with the pack signature): its finder.
    A bad pack is a RuntimeWarning naming it and the reason, and serves nothing."""
    if not path or not _bootstrap._bootstrap_external._path_isfile(path):
        raise ImportError("not a pack file", path=path)
    import _io

    try:
        with _io.open_code(path) as f:
            signature = f.read(8)
    except OSError:
        raise ImportError("not a readable file", path=path) from None
    if signature != _PACK_SIGNATURE:
        raise ImportError("not a pack file", path=path)
    global _packs
    if _packs is None:  # a patched CPython, at its first pack
        _packs = _bootstrap._imp._frozen_ext_packs()
    try:
        handle = _packs.pack_open(path)
    except ImportError as e:
        import _warnings

        _warnings.warn("%s; its modules are not importable" % (e,), RuntimeWarning, stacklevel=2)
        return _BadPackFinder(path)
    if _Loader is not PyfreezeLoader and sys.version_info < (3, 13) and sys.excepthook is sys.__excepthook__:
        # A patched 3.11's C traceback printer reads source lines from files and the linked
        # table: print through `traceback`, which asks the loader, as the stock runtime does.
        sys.excepthook = _excepthook
    pack = _pack_table(handle)
    if pack not in _path_packs:
        _path_packs.append(pack)
        _rebuild()
    return _PackFinder(path, pack)


# Patched CPython: its folder hook knows the linked table only; once a pack on `sys.path` is
# open it asks this for the folders of the pack's packages (`_table` holds the packs).
_pack_folder_hook = _path_hook


# -- CPython patched by pyfreeze -------------------------------------------------------------


class _ImpTable:
    """The `_pyfreeze` interface over a patched CPython's `_imp._frozen_ext_*` accessors."""

    @staticmethod
    def find(name):
        return _bootstrap._imp._frozen_ext_find(name)

    @staticmethod
    def get_code(name):
        return _bootstrap._imp.get_frozen_object(name)

    @staticmethod
    def get_source(name):
        return _bootstrap._imp._frozen_ext_source(name)

    @staticmethod
    def modules():
        return _bootstrap._imp._frozen_ext_modules()

    @staticmethod
    def resources(name):
        return _bootstrap._imp._frozen_ext_resources(name)

    @staticmethod
    def read_resource(name, path):
        return _bootstrap._imp._frozen_ext_read_resource(name, path)

    @staticmethod
    def package_at(path):
        return _bootstrap._imp._frozen_ext_package_at(path)

    @staticmethod
    def distributions():
        return _bootstrap._imp._frozen_ext_distributions()

    @staticmethod
    def read_dist_file(name, path):
        return _bootstrap._imp._frozen_ext_read_dist_file(name, path)


def attach_cpython():
    """Patched CPython: FrozenImporter serves the table; this module adds resources,
    get_data and the path-entry finder. Returns this module."""
    global _table, _linked, _Loader, _PACKAGE, _NAMESPACE
    if _table is None:
        _table = _linked = _ImpTable
        _Loader = _bootstrap.FrozenExtLoader
        _PACKAGE, _NAMESPACE = _bootstrap._imp.PYFREEZE_PACKAGE, _bootstrap._imp.PYFREEZE_NAMESPACE
    return sys.modules[__name__]
