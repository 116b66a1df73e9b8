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

/// One field of a pack record ([`PackRecord`]): an unsigned little-endian integer of `size`
/// bytes (or, for `size` > 8, bytes as they are), at the offset the fields before it give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackField {
    pub name: &'static str,
    pub size: usize,
    pub doc: &'static str,
}

/// A fixed-size record of a pack file (`pyfreeze pack`): the header, or a row of one of its
/// tables. Fields follow each other without padding; a record's size is a multiple of 8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackRecord {
    pub name: &'static str,
    pub doc: &'static str,
    pub fields: &'static [PackField],
}

impl PackRecord {
    /// The record's size in bytes.
    pub const fn size(&self) -> usize {
        let mut size = 0;
        let mut i = 0;
        while i < self.fields.len() {
            size += self.fields[i].size;
            i += 1;
        }
        size
    }

    /// The offset of field `name` in the record.
    ///
    /// # Panics
    /// If the record has no such field (a programming error).
    pub fn offset(&self, name: &str) -> usize {
        let mut offset = 0;
        for f in self.fields {
            if f.name == name {
                return offset;
            }
            offset += f.size;
        }
        panic!("pack record {} has no field {name}", self.name)
    }

    /// A Markdown table of the fields, with their offsets.
    pub fn markdown(&self) -> String {
        let mut out = format!(
            "{} ({} bytes): {}\n\n| offset | size | field | meaning |\n|---|---|---|---|\n",
            self.name,
            self.size(),
            self.doc
        );
        let mut offset = 0;
        for f in self.fields {
            out.push_str(&format!(
                "| {offset} | {} | `{}` | {} |\n",
                f.size, f.name, f.doc
            ));
            offset += f.size;
        }
        out
    }
}

/// The first 8 bytes of a pack: `PYFZ`, then CR LF, SUB, LF (as PNG's signature: a file
/// mangled by a text-mode transfer or printed by `type` is recognised).
pub const PACK_MAGIC: [u8; 8] = *b"PYFZ\r\n\x1a\n";
/// The pack format this pyfreeze writes and reads.
pub const PACK_FORMAT_VERSION: u32 = 1;

const fn pf(name: &'static str, size: usize, doc: &'static str) -> PackField {
    PackField { name, size, doc }
}

/// The header of a pack, at offset 0.
pub const PACK_HEADER: PackRecord = PackRecord {
    name: "Header",
    doc: "at offset 0.",
    fields: &[
        pf("magic", 8, "`PYFZ\\r\\n\\x1a\\n`"),
        pf("format_version", 4, "the pack format (1); a reader refuses another"),
        pf("header_size", 4, "the size of this header (112)"),
        pf(
            "bytecode_magic",
            4,
            "the target interpreter's `importlib.util.MAGIC_NUMBER` (its bytecode magic number, then CR LF): the bytecode is for that interpreter only",
        ),
        pf(
            "target_hexversion",
            4,
            "`sys.hexversion` of the interpreter that compiled the bytecode (for messages)",
        ),
        pf("file_size", 4, "the size of the whole file: a shorter one is truncated"),
        pf("flags", 4, "0 (no flag is defined; a reader refuses a pack with any set)"),
        pf("module_count", 4, "rows of the module table"),
        pf("modules_offset", 4, "where the module table starts (a multiple of 8)"),
        pf("resource_count", 4, "rows of the package data table"),
        pf("resources_offset", 4, "where the package data table starts (a multiple of 8)"),
        pf("distribution_count", 4, "rows of the distribution table"),
        pf(
            "distributions_offset",
            4,
            "where the distribution table starts (a multiple of 8)",
        ),
        pf("dist_file_count", 4, "rows of the distribution file table"),
        pf(
            "dist_files_offset",
            4,
            "where the distribution file table starts (a multiple of 8)",
        ),
        pf(
            "strings_offset",
            4,
            "where the string area starts: names and paths, UTF-8, each followed by a NUL",
        ),
        pf(
            "strings_size",
            4,
            "its size; the blob area (code, sources, data files) follows it to the end of the file",
        ),
        pf(
            "index_crc32",
            4,
            "CRC-32C (Castagnoli: iSCSI's, SSE 4.2's `crc32` instruction) of the bytes from the end of the header to the end of the string area: checked when the pack is opened; the other checksums are CRC-32C too",
        ),
        pf(
            "content_sha256",
            32,
            "SHA-256 of the bytes from the end of the header to the end of the file (`pyfreeze inspect --verify`)",
        ),
        pf("reserved", 4, "0"),
    ],
};

/// A row of the pack's module table, sorted by name (bytewise).
pub const PACK_MODULE: PackRecord = PackRecord {
    name: "Module row",
    doc: "one per module, sorted by `name` bytewise (a binary search finds a module); the same fields as `struct pyfreeze_module`, as offsets into the file.",
    fields: &[
        pf("name", 4, "offset of the dotted module name (string area)"),
        pf("name_size", 4, "its length in bytes, without the NUL"),
        pf("origin", 4, "offset of `__file__` and `co_filename` (string area)"),
        pf("origin_size", 4, "its length in bytes, without the NUL"),
        pf("code", 4, "offset of `marshal.dumps()` of the module's code (blob area)"),
        pf("code_size", 4, "its length (0: no bytecode, as `embed_bytecode = false`)"),
        pf("source", 4, "offset of the source as stored (blob area)"),
        pf(
            "source_size",
            4,
            "its length (0: no source; an empty one is stored compressed); `PYFREEZE_SOURCE_DEFLATE` as in the table",
        ),
        pf("flags", 4, "`PYFREEZE_*` flag bits, as in the table"),
        pf(
            "resources_start",
            4,
            "index of the package's first row in the package data table",
        ),
        pf("resources_count", 4, "number of consecutive rows of the package there"),
        pf(
            "code_crc32",
            4,
            "CRC-32C of the code: checked before it is first used",
        ),
        pf(
            "source_crc32",
            4,
            "CRC-32C of the stored source: checked before it is first read",
        ),
        pf("reserved", 4, "0"),
    ],
};

/// A row of the pack's package data table.
pub const PACK_RESOURCE: PackRecord = PackRecord {
    name: "Package data row",
    doc: "one per package data file; a package's rows are consecutive, sorted by `path` bytewise.",
    fields: &[
        pf(
            "path",
            4,
            "offset of the path relative to the package directory, `/`-separated (string area)",
        ),
        pf("path_size", 4, "its length in bytes, without the NUL"),
        pf("data", 4, "offset of the file's bytes (blob area)"),
        pf("data_size", 4, "their length"),
        pf("crc32", 4, "CRC-32C of the file's bytes"),
        pf("reserved", 4, "0"),
    ],
};

/// A row of the pack's distribution table.
pub const PACK_DISTRIBUTION: PackRecord = PackRecord {
    name: "Distribution row",
    doc: "one per metadata folder (`*.dist-info`, `*.egg-info`), sorted by `name` bytewise.",
    fields: &[
        pf("name", 4, "offset of the folder's name (string area)"),
        pf("name_size", 4, "its length in bytes, without the NUL"),
        pf(
            "origin",
            4,
            "offset of the folder's path after prefix mapping (string area)",
        ),
        pf("origin_size", 4, "its length in bytes, without the NUL"),
        pf(
            "files_start",
            4,
            "index of the folder's first row in the distribution file table",
        ),
        pf(
            "files_count",
            4,
            "number of consecutive rows of the folder there",
        ),
    ],
};

/// A row of the pack's distribution file table.
pub const PACK_DIST_FILE: PackRecord = PackRecord {
    name: "Distribution file row",
    doc: "one per file of a metadata folder; a folder's rows are consecutive, sorted by `path` bytewise.",
    fields: &[
        pf(
            "path",
            4,
            "offset of the path relative to the folder, `/`-separated (string area)",
        ),
        pf("path_size", 4, "its length in bytes, without the NUL"),
        pf("data", 4, "offset of the file's bytes (blob area)"),
        pf("data_size", 4, "their length"),
        pf("crc32", 4, "CRC-32C of the file's bytes"),
        pf("reserved", 4, "0"),
    ],
};

/// Every record of the pack format, in file order.
pub const PACK_RECORDS: [&PackRecord; 5] = [
    &PACK_HEADER,
    &PACK_MODULE,
    &PACK_RESOURCE,
    &PACK_DISTRIBUTION,
    &PACK_DIST_FILE,
];

/// The C name of a pack record: `HEADER`, `MODULE`, `RESOURCE`, `DISTRIBUTION`, `DIST_FILE`.
fn pack_c_name(record: &PackRecord) -> &'static str {
    match record.name {
        "Header" => "HEADER",
        "Module row" => "MODULE",
        "Package data row" => "RESOURCE",
        "Distribution row" => "DISTRIBUTION",
        "Distribution file row" => "DIST_FILE",
        other => panic!("pack record {other} has no C name"),
    }
}

/// `pyfreeze.h`'s pack layout: the signature, the format version, and for each record its
/// size (`PYFREEZE_PACK_MODULE_SIZE`) and the offset of each field
/// (`PYFREEZE_PACK_MODULE_CODE_SIZE_AT`), which the runtime's reader uses.
pub fn pack_c_defines() -> String {
    let mut out =
        String::from("/* Packs (docs/table-format.md#packs): little-endian records. */\n");
    out.push_str("#define PYFREEZE_PACK_MAGIC \"");
    for b in PACK_MAGIC {
        out.push_str(&format!("\\x{b:02x}"));
    }
    out.push_str("\"\n");
    out.push_str(&format!(
        "#define PYFREEZE_PACK_FORMAT_VERSION {PACK_FORMAT_VERSION}u\n"
    ));
    for record in PACK_RECORDS {
        let name = pack_c_name(record);
        out.push_str(&format!(
            "#define PYFREEZE_PACK_{name}_SIZE {}u\n",
            record.size()
        ));
        let mut offset = 0;
        for f in record.fields {
            out.push_str(&format!(
                "#define PYFREEZE_PACK_{name}_{}_AT {offset}u\n",
                f.name.to_uppercase()
            ));
            offset += f.size;
        }
    }
    out
}

/// The generated part of `docs/table-format.md` on packs.
pub fn markdown_pack_reference() -> String {
    let mut out = String::new();
    for (i, record) in PACK_RECORDS.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&record.markdown());
    }
    out
}

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
    fn pack_records_are_whole_multiples_of_eight() {
        assert_eq!(PACK_HEADER.size(), 112);
        for record in PACK_RECORDS {
            assert_eq!(record.size() % 8, 0, "{}", record.name);
        }
        assert_eq!(PACK_MODULE.offset("code_crc32"), 44);
        assert_eq!(PACK_MODULE.size(), 56);
    }

    #[test]
    fn c_declaration_places_names_inside_types() {
        let decl = StockLayout::V311.as_struct().c_declaration();
        assert!(decl.contains("    void *(*get_code)(void); /*"), "{decl}");
        assert!(decl.contains("    const char *name; /*"), "{decl}");
    }
}
