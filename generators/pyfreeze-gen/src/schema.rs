//! The table schema, declared once. The C header (`pyfreeze.h`), the format documentation
//! (`docs/table-format.md`) and the layout checks are all derived from these declarations.

/// One field of a generated C struct.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    /// C type as written in a declaration, with `{}` where the field name goes.
    pub c_type: &'static str,
    pub doc: &'static str,
}

/// A generated C struct: tag, fields, documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Struct {
    pub tag: &'static str,
    pub doc: &'static str,
    pub fields: &'static [Field],
}

pub const FLAG_PACKAGE: u32 = 0x1;
pub const FLAG_NAMESPACE: u32 = 0x2;
pub const FLAG_SOURCE_DEFLATE: u32 = 0x4;

/// Module flag bits of `pyfreeze_module.flags`: C name, value, meaning. `pyfreeze.h` and a
/// patched CPython's `pycore_frozen_ext.h` define them ([`c_flag_defines`]); Python code gets
/// them from the table (`_pyfreeze.PACKAGE`, `_imp.PYFREEZE_PACKAGE`), never as numbers.
pub const FLAGS: &[(&str, u32, &str)] = &[
    (
        "PYFREEZE_PACKAGE",
        FLAG_PACKAGE,
        "the module is a package (regular or namespace)",
    ),
    (
        "PYFREEZE_NAMESPACE",
        FLAG_NAMESPACE,
        "the package has no `__init__.py`; `origin` is its directory and `code` an empty module",
    ),
    (
        "PYFREEZE_SOURCE_DEFLATE",
        FLAG_SOURCE_DEFLATE,
        "`source` is compressed: the decoded size (4 bytes, little-endian), then a raw DEFLATE stream (RFC 1951); `source_size` counts both",
    ),
];

/// `#define PYFREEZE_PACKAGE 0x1u /* meaning */`, one line per flag.
pub fn c_flag_defines() -> String {
    FLAGS
        .iter()
        .map(|(name, value, doc)| format!("#define {name} {value:#x}u /* {doc} */\n"))
        .collect()
}

/// The extended frozen-module table: one row per module, sorted by `name` (bytewise), so a
/// binary search finds a module.
pub const MODULE: Struct = Struct {
    tag: "pyfreeze_module",
    doc: "One frozen module. Rows are sorted by `name` (bytewise, as `strcmp`).",
    fields: &[
        Field {
            name: "name",
            c_type: "const char *{}",
            doc: "dotted module name, UTF-8, NUL-terminated",
        },
        Field {
            name: "origin",
            c_type: "const char *{}",
            doc: "`__file__` and `co_filename`: the source path after prefix mapping (a package's `__init__.py`; a namespace package's directory)",
        },
        Field {
            name: "code",
            c_type: "const unsigned char *{}",
            doc: "`marshal.dumps()` of the module's code object, made by the target interpreter",
        },
        Field {
            name: "source",
            c_type: "const unsigned char *{}",
            doc: "the source file's bytes as on disk (PEP 263 cookie honoured when decoded), or NULL when source is not embedded",
        },
        Field {
            name: "code_size",
            c_type: "uint32_t {}",
            doc: "length of `code` in bytes",
        },
        Field {
            name: "source_size",
            c_type: "uint32_t {}",
            doc: "length of `source` in bytes (0 when `source` is NULL)",
        },
        Field {
            name: "flags",
            c_type: "uint32_t {}",
            doc: "`PYFREEZE_*` flag bits",
        },
        Field {
            name: "resources_start",
            c_type: "uint32_t {}",
            doc: "index of this package's first row in `pyfreeze_resources`",
        },
        Field {
            name: "resources_count",
            c_type: "uint32_t {}",
            doc: "number of consecutive rows of this package in `pyfreeze_resources`",
        },
    ],
};

/// Package data: one row per non-Python file inside a frozen package, sorted by
/// (`package`, `path`).
pub const RESOURCE: Struct = Struct {
    tag: "pyfreeze_resource",
    doc: "One package data file. Rows are sorted by (`package`, `path`).",
    fields: &[
        Field {
            name: "package",
            c_type: "const char *{}",
            doc: "dotted name of the package that holds the file",
        },
        Field {
            name: "path",
            c_type: "const char *{}",
            doc: "path relative to the package directory, `/`-separated",
        },
        Field {
            name: "data",
            c_type: "const unsigned char *{}",
            doc: "the file's bytes",
        },
        Field {
            name: "size",
            c_type: "uint32_t {}",
            doc: "length of `data` in bytes",
        },
    ],
};

/// Distribution metadata: one row per `*.dist-info` / `*.egg-info` folder frozen beside the
/// packages of a root, sorted by `name`.
pub const DISTRIBUTION: Struct = Struct {
    tag: "pyfreeze_distribution",
    doc: "One distribution's metadata folder, for `importlib.metadata`. Rows are sorted by `name`.",
    fields: &[
        Field {
            name: "name",
            c_type: "const char *{}",
            doc: "the folder's name, as `attrs-23.2.0.dist-info` or `six.egg-info`",
        },
        Field {
            name: "origin",
            c_type: "const char *{}",
            doc: "the folder's path after prefix mapping (beside the origins of its packages)",
        },
        Field {
            name: "files_start",
            c_type: "uint32_t {}",
            doc: "index of the folder's first row in `pyfreeze_dist_files`",
        },
        Field {
            name: "files_count",
            c_type: "uint32_t {}",
            doc: "number of consecutive rows of the folder in `pyfreeze_dist_files`",
        },
    ],
};

/// The files of the distribution metadata folders, sorted by (`distribution`, `path`).
pub const DIST_FILE: Struct = Struct {
    tag: "pyfreeze_dist_file",
    doc:
        "One file of a distribution's metadata folder. Rows are sorted by (`distribution`, `path`).",
    fields: &[
        Field {
            name: "distribution",
            c_type: "const char *{}",
            doc: "the `name` of the folder's `pyfreeze_distribution` row",
        },
        Field {
            name: "path",
            c_type: "const char *{}",
            doc: "path relative to the folder, `/`-separated (`METADATA`, `entry_points.txt`, ...)",
        },
        Field {
            name: "data",
            c_type: "const unsigned char *{}",
            doc: "the file's bytes",
        },
        Field {
            name: "size",
            c_type: "uint32_t {}",
            doc: "length of `data` in bytes",
        },
    ],
};

/// The modules and distributions of roots whose installed copies win (`precedence = "path"`),
/// sorted by (`module`, `distribution`).
pub const PATH_FIRST: Struct = Struct {
    tag: "pyfreeze_path_first",
    doc: "A top-level module or distribution that a copy installed on `sys.path` overrides. \
          Rows are sorted by (`module`, `distribution`).",
    fields: &[
        Field {
            name: "module",
            c_type: "const char *{}",
            doc: "a top-level module of such a root, or `\"\"` for a distribution without modules",
        },
        Field {
            name: "distribution",
            c_type: "const char *{}",
            doc: "the `name` of the `pyfreeze_distribution` row of a distribution listing a \
                  file of `module`, or `\"\"` for none",
        },
    ],
};

/// Layouts of CPython's public `struct _frozen` (`Include/cpython/import.h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockLayout {
    /// 3.10 and older: `{name, code, size}`; a negative `size` marks a package.
    V310,
    /// 3.11 and 3.12: `{name, code, size, is_package, get_code}`.
    V311,
    /// 3.13 and newer: `{name, code, size, is_package}`.
    V313,
}

const STOCK_NAME: Field = Field {
    name: "name",
    c_type: "const char *{}",
    doc: "dotted module name",
};
const STOCK_CODE: Field = Field {
    name: "code",
    c_type: "const unsigned char *{}",
    doc: "marshalled code object",
};
const STOCK_SIZE: Field = Field {
    name: "size",
    c_type: "int {}",
    doc: "length of `code`",
};
const STOCK_SIZE_310: Field = Field {
    name: "size",
    c_type: "int {}",
    doc: "length of `code`, negated for a package",
};
const STOCK_IS_PACKAGE: Field = Field {
    name: "is_package",
    c_type: "int {}",
    doc: "1 for a package",
};
const STOCK_GET_CODE: Field = Field {
    name: "get_code",
    c_type: "void *(*{})(void)",
    doc: "deepfreeze hook; always NULL in pyfreeze tables",
};

impl StockLayout {
    /// The fields in declaration order. The C mirror is named `pyfreeze_frozen` and must
    /// match `struct _frozen` of the target version byte for byte (checked by a static
    /// assertion in `pyfreeze_runtime.c` against the real header).
    pub fn fields(self) -> &'static [Field] {
        match self {
            StockLayout::V310 => &[STOCK_NAME, STOCK_CODE, STOCK_SIZE_310],
            StockLayout::V311 => &[
                STOCK_NAME,
                STOCK_CODE,
                STOCK_SIZE,
                STOCK_IS_PACKAGE,
                STOCK_GET_CODE,
            ],
            StockLayout::V313 => &[STOCK_NAME, STOCK_CODE, STOCK_SIZE, STOCK_IS_PACKAGE],
        }
    }

    pub fn as_struct(self) -> Struct {
        Struct {
            tag: "pyfreeze_frozen",
            doc: "Mirror of CPython's `struct _frozen` for the target version, for `PyImport_FrozenModules`.",
            fields: self.fields(),
        }
    }

    /// Versions using this layout, for docs.
    pub fn versions(self) -> &'static str {
        match self {
            StockLayout::V310 => "3.10",
            StockLayout::V311 => "3.11, 3.12",
            StockLayout::V313 => "3.13+",
        }
    }
}

impl Struct {
    /// The C declaration, one field per line with its doc as a comment.
    pub fn c_declaration(&self) -> String {
        let mut out = format!("/* {} */\nstruct {} {{\n", self.doc, self.tag);
        for f in self.fields {
            let decl = f.c_type.replace("{}", f.name);
            out.push_str(&format!(
                "    {decl}; /* {} */\n",
                f.doc.replace("*/", "* /")
            ));
        }
        out.push_str("};\n");
        out
    }

    /// A Markdown table of the fields.
    pub fn markdown(&self) -> String {
        let mut out = format!(
            "`struct {}`: {}\n\n| field | C type | meaning |\n|---|---|---|\n",
            self.tag, self.doc
        );
        for f in self.fields {
            let ty = f.c_type.replace("{}", "").trim_end().to_string();
            out.push_str(&format!("| `{}` | `{}` | {} |\n", f.name, ty, f.doc));
        }
        out
    }
}

/// The generated part of `docs/table-format.md`: every struct and flag, derived from the
/// declarations above. A test keeps the docs in step.
pub fn markdown_reference() -> String {
    let mut out = String::new();
    out.push_str("### Extended table\n\n");
    out.push_str(&MODULE.markdown());
    out.push_str("\nFlags:\n\n| flag | value | meaning |\n|---|---|---|\n");
    for (name, value, doc) in FLAGS {
        out.push_str(&format!("| `{name}` | `{value:#x}` | {doc} |\n"));
    }
    out.push_str("\n### Package data\n\n");
    out.push_str(&RESOURCE.markdown());
    out.push_str("\n### Distribution metadata\n\n");
    out.push_str(&DISTRIBUTION.markdown());
    out.push('\n');
    out.push_str(&DIST_FILE.markdown());
    out.push_str("\n### Installed copies first (stock runtime)\n\n");
    out.push_str(&PATH_FIRST.markdown());
    out.push_str("\n### Stock table (`PyImport_FrozenModules`)\n");
    for layout in [StockLayout::V310, StockLayout::V311, StockLayout::V313] {
        out.push_str(&format!("\nCPython {}:\n\n", layout.versions()));
        out.push_str(&layout.as_struct().markdown());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_declaration_places_names_inside_types() {
        let decl = StockLayout::V311.as_struct().c_declaration();
        assert!(decl.contains("    void *(*get_code)(void); /*"), "{decl}");
        assert!(decl.contains("    const char *name; /*"), "{decl}");
    }
}
