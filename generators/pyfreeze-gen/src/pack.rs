//! Packs: the extended table as one read-only file (`pyfreeze pack`), laid out to be mapped and
//! used in place. The records are declared in [`crate::schema`] (`PACK_*`), documented in
//! `docs/table-format.md`; this module writes a pack and reads one back, checking every offset
//! before it is used ([`Pack::open`]): a bad pack is an error naming the reason, never a panic.

use crate::emit::{stored_source, StoredSource};
use crate::schema::{
    PackRecord, FLAGS, FLAG_NAMESPACE, FLAG_PACKAGE, FLAG_SOURCE_DEFLATE, PACK_DISTRIBUTION,
    PACK_DIST_FILE, PACK_FORMAT_VERSION, PACK_HEADER, PACK_MAGIC, PACK_MODULE, PACK_RESOURCE,
};
use crate::{FrozenDistribution, FrozenModule, FrozenResource, Kind};
use sha2::{Digest, Sha256};
use std::fmt;

/// What a pack is written for and how.
#[derive(Debug, Clone, Copy)]
pub struct PackOptions {
    /// The target's bytecode magic number (`importlib.util.MAGIC_NUMBER[:2]`, little-endian).
    pub magic: u16,
    /// The target's `sys.hexversion`.
    pub hexversion: u32,
    /// Store sources as the table does with `compress_source`.
    pub compress_source: bool,
}

/// CRC-32C (Castagnoli, as iSCSI and ext4 use it: x86's SSE 4.2 `crc32` instruction computes
/// it, which the runtime uses), table-driven.
pub fn crc32(bytes: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    0x82F6_3B78 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            table[i] = c;
            i += 1;
        }
        table
    };
    let mut c = !0u32;
    for &b in bytes {
        c = TABLE[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8);
    }
    !c
}

/// A pack is addressed with 32-bit offsets.
const MAX_PACK: usize = u32::MAX as usize;

/// Why a pack could not be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooLarge(pub usize);

impl fmt::Display for TooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the pack would be {} bytes; packs address at most 4 GiB: split the spec into two packs",
            self.0
        )
    }
}

/// Writes records field by field, in the declared order.
struct Rows {
    bytes: Vec<u8>,
}

impl Rows {
    fn put(&mut self, record: &PackRecord, values: &[(&str, u64)]) {
        assert_eq!(values.len(), record.fields.len(), "{}", record.name);
        for (field, (name, value)) in record.fields.iter().zip(values) {
            assert_eq!(field.name, *name, "{}", record.name);
            self.bytes
                .extend_from_slice(&value.to_le_bytes()[..field.size.min(8)]);
        }
    }
}

/// A module's source as a pack stores it. A size of 0 means "no source" there, so an empty
/// source (an empty `__init__.py`) is stored compressed: its size, 0, and an empty DEFLATE
/// stream, which the readers decode to no bytes (as the linked table serves an empty source).
fn pack_source(source: &[u8], compress: bool) -> StoredSource {
    if !source.is_empty() {
        return stored_source(source, compress);
    }
    let mut bytes = 0u32.to_le_bytes().to_vec();
    bytes.extend(miniz_oxide::deflate::compress_to_vec(b"", 10));
    StoredSource {
        bytes,
        compressed: true,
    }
}

/// The bytes of a pack holding `modules` (sorted by name, as [`crate::generate`] gives them),
/// their package data and `distributions`. Deterministic: the same input gives the same bytes.
pub fn write_pack(
    modules: &[FrozenModule],
    resources: &[FrozenResource],
    distributions: &[FrozenDistribution],
    options: &PackOptions,
) -> Result<Vec<u8>, TooLarge> {
    let mut modules: Vec<&FrozenModule> = modules.iter().collect();
    modules.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    let mut distributions: Vec<&FrozenDistribution> = distributions.iter().collect();
    distributions.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    // A package's data rows, in path order.
    let data_of = |m: &FrozenModule| -> Vec<&FrozenResource> {
        let mut rows: Vec<&FrozenResource> = resources
            [m.resources.start as usize..m.resources.end as usize]
            .iter()
            .collect();
        rows.sort_by(|a, b| a.rel.as_bytes().cmp(b.rel.as_bytes()));
        rows
    };
    let resource_count: usize = modules.iter().map(|m| m.resources.len()).sum();
    let dist_file_count: usize = distributions.iter().map(|d| d.files.len()).sum();

    let align = |n: usize| n.div_ceil(8) * 8;
    let modules_offset = PACK_HEADER.size();
    let resources_offset = align(modules_offset + modules.len() * PACK_MODULE.size());
    let distributions_offset = align(resources_offset + resource_count * PACK_RESOURCE.size());
    let dist_files_offset =
        align(distributions_offset + distributions.len() * PACK_DISTRIBUTION.size());
    let strings_offset = align(dist_files_offset + dist_file_count * PACK_DIST_FILE.size());

    // The string area, then the blob area: (offset, size) of each piece, in row order.
    let mut strings: Vec<u8> = Vec::new();
    let mut string = |s: &str| -> (u64, u64) {
        let at = strings_offset + strings.len();
        strings.extend_from_slice(s.as_bytes());
        strings.push(0);
        (at as u64, s.len() as u64)
    };
    // Blobs, in file order; rows hold their index until the offsets are known.
    let mut blobs: Vec<Vec<u8>> = Vec::new();
    let mut blob = |bytes: Vec<u8>| -> (usize, u64) {
        let size = bytes.len() as u64;
        blobs.push(bytes);
        (blobs.len() - 1, size)
    };

    struct ModuleRow {
        name: (u64, u64),
        origin: (u64, u64),
        code: usize,
        code_size: u64,
        source: usize,
        source_size: u64,
        flags: u32,
        resources: (u64, u64),
        crcs: (u32, u32),
    }
    let mut module_rows = Vec::with_capacity(modules.len());
    let mut resource_rows = Vec::with_capacity(resource_count);
    let mut next_resource = 0u64;
    for m in &modules {
        let name = string(&m.name);
        let origin = string(&m.origin);
        let stored = m
            .source
            .as_deref()
            .map(|s| pack_source(s, options.compress_source));
        let mut flags = match m.kind {
            Kind::Module => 0,
            Kind::Package => FLAG_PACKAGE,
            Kind::Namespace => FLAG_PACKAGE | FLAG_NAMESPACE,
        };
        let source_bytes = match stored {
            Some(s) => {
                if s.compressed {
                    flags |= FLAG_SOURCE_DEFLATE;
                }
                s.bytes
            }
            None => Vec::new(),
        };
        let crcs = (crc32(&m.code), crc32(&source_bytes));
        let (code, code_size) = blob(m.code.clone());
        let (source, source_size) = blob(source_bytes);
        let data = data_of(m);
        let resources = (next_resource, data.len() as u64);
        next_resource += data.len() as u64;
        for r in data {
            let path = string(&r.rel);
            let (data, size) = blob(r.data.clone());
            resource_rows.push((path, data, size, crc32(&r.data)));
        }
        module_rows.push(ModuleRow {
            name,
            origin,
            code,
            code_size,
            source,
            source_size,
            flags,
            resources,
            crcs,
        });
    }
    let mut dist_rows = Vec::with_capacity(distributions.len());
    let mut dist_file_rows = Vec::with_capacity(dist_file_count);
    let mut next_file = 0u64;
    for d in &distributions {
        let name = string(&d.name);
        let origin = string(&d.origin);
        let mut files: Vec<&FrozenResource> = d.files.iter().collect();
        files.sort_by(|a, b| a.rel.as_bytes().cmp(b.rel.as_bytes()));
        dist_rows.push((name, origin, next_file, files.len() as u64));
        next_file += files.len() as u64;
        for f in files {
            let path = string(&f.rel);
            let (data, size) = blob(f.data.clone());
            dist_file_rows.push((path, data, size, crc32(&f.data)));
        }
    }
    let strings_size = strings.len();
    let blobs_offset = strings_offset + strings_size;
    let file_size = blobs_offset + blobs.iter().map(Vec::len).sum::<usize>();
    if file_size > MAX_PACK {
        return Err(TooLarge(file_size));
    }
    let mut blob_offsets = Vec::with_capacity(blobs.len());
    let mut at = blobs_offset;
    for b in &blobs {
        blob_offsets.push(at as u64);
        at += b.len();
    }
    // An empty blob points at the end of the blobs before it: any offset <= the file's size
    // with size 0 is valid.

    let mut out = Rows {
        bytes: Vec::with_capacity(file_size),
    };
    out.bytes.resize(PACK_HEADER.size(), 0); // the header last, once the hashes are known
    for r in &module_rows {
        out.put(
            &PACK_MODULE,
            &[
                ("name", r.name.0),
                ("name_size", r.name.1),
                ("origin", r.origin.0),
                ("origin_size", r.origin.1),
                ("code", blob_offsets[r.code]),
                ("code_size", r.code_size),
                ("source", blob_offsets[r.source]),
                ("source_size", r.source_size),
                ("flags", u64::from(r.flags)),
                ("resources_start", r.resources.0),
                ("resources_count", r.resources.1),
                ("code_crc32", u64::from(r.crcs.0)),
                ("source_crc32", u64::from(r.crcs.1)),
                ("reserved", 0),
            ],
        );
    }
    // Package data and distribution files: rows of the same fields.
    let put_files =
        |out: &mut Rows, record: &PackRecord, rows: &[((u64, u64), usize, u64, u32)]| {
            for (path, data, size, crc) in rows {
                out.put(
                    record,
                    &[
                        ("path", path.0),
                        ("path_size", path.1),
                        ("data", blob_offsets[*data]),
                        ("data_size", *size),
                        ("crc32", u64::from(*crc)),
                        ("reserved", 0),
                    ],
                );
            }
        };
    out.bytes.resize(resources_offset, 0);
    put_files(&mut out, &PACK_RESOURCE, &resource_rows);
    out.bytes.resize(distributions_offset, 0);
    for (name, origin, start, count) in &dist_rows {
        out.put(
            &PACK_DISTRIBUTION,
            &[
                ("name", name.0),
                ("name_size", name.1),
                ("origin", origin.0),
                ("origin_size", origin.1),
                ("files_start", *start),
                ("files_count", *count),
            ],
        );
    }
    out.bytes.resize(dist_files_offset, 0);
    put_files(&mut out, &PACK_DIST_FILE, &dist_file_rows);
    out.bytes.resize(strings_offset, 0);
    out.bytes.extend_from_slice(&strings);
    for b in &blobs {
        out.bytes.extend_from_slice(b);
    }
    debug_assert_eq!(out.bytes.len(), file_size);
    let index_crc = crc32(&out.bytes[PACK_HEADER.size()..blobs_offset]);
    let sha: [u8; 32] = Sha256::digest(&out.bytes[PACK_HEADER.size()..]).into();

    let mut header = Rows {
        bytes: Vec::with_capacity(PACK_HEADER.size()),
    };
    let counts = [
        module_rows.len(),
        resource_rows.len(),
        dist_rows.len(),
        dist_file_rows.len(),
    ];
    let fields_before_hash: Vec<(&str, u64)> = vec![
        ("format_version", u64::from(PACK_FORMAT_VERSION)),
        ("header_size", PACK_HEADER.size() as u64),
        (
            "bytecode_magic",
            u64::from(options.magic) | (u64::from(u16::from_le_bytes(*b"\r\n")) << 16),
        ),
        ("target_hexversion", u64::from(options.hexversion)),
        ("file_size", file_size as u64),
        ("flags", 0),
        ("module_count", counts[0] as u64),
        ("modules_offset", modules_offset as u64),
        ("resource_count", counts[1] as u64),
        ("resources_offset", resources_offset as u64),
        ("distribution_count", counts[2] as u64),
        ("distributions_offset", distributions_offset as u64),
        ("dist_file_count", counts[3] as u64),
        ("dist_files_offset", dist_files_offset as u64),
        ("strings_offset", strings_offset as u64),
        ("strings_size", strings_size as u64),
        ("index_crc32", u64::from(index_crc)),
    ];
    header.bytes.extend_from_slice(&PACK_MAGIC);
    for (field, (name, value)) in PACK_HEADER.fields[1..].iter().zip(&fields_before_hash) {
        assert_eq!(field.name, *name);
        header
            .bytes
            .extend_from_slice(&value.to_le_bytes()[..field.size]);
    }
    header.bytes.extend_from_slice(&sha);
    header.bytes.extend_from_slice(&[0; 4]);
    assert_eq!(header.bytes.len(), PACK_HEADER.size());
    out.bytes[..PACK_HEADER.size()].copy_from_slice(&header.bytes);
    Ok(out.bytes)
}

/// Why a pack cannot be used. Its `Display` says what is wrong; callers add the pack's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackError {
    /// Shorter than its header, or than the size its header gives.
    Truncated { expected: u64, found: u64 },
    /// Not a pack at all.
    NotAPack,
    /// A format version this reader does not know (a newer pyfreeze wrote it).
    FormatVersion(u32),
    /// Written for another interpreter's bytecode.
    BytecodeMagic { pack: u16, expected: u16 },
    /// The header, a table or a row is inconsistent.
    Corrupt(String),
    /// The index, or a module's bytes, do not match their checksum.
    Checksum(String),
}

impl fmt::Display for PackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PackError::Truncated { expected, found } => write!(
                f,
                "truncated: {found} bytes where the header says {expected}"
            ),
            PackError::NotAPack => write!(f, "not a pyfreeze pack (no PYFZ signature)"),
            PackError::FormatVersion(v) => write!(
                f,
                "pack format version {v}; this pyfreeze reads version {PACK_FORMAT_VERSION}: \
                 write the pack again with this pyfreeze"
            ),
            PackError::BytecodeMagic { pack, expected } => write!(
                f,
                "its bytecode is for another CPython (magic number {pack}, this interpreter's is \
                 {expected}): write it with `pyfreeze pack --python` of this interpreter"
            ),
            PackError::Corrupt(why) => write!(f, "corrupt: {why}"),
            PackError::Checksum(what) => write!(f, "checksum mismatch: {what}"),
        }
    }
}

impl std::error::Error for PackError {}

/// Reads the fields of a record.
#[derive(Clone, Copy)]
struct Record<'a> {
    record: &'static PackRecord,
    bytes: &'a [u8],
}

impl Record<'_> {
    fn get(&self, name: &str) -> u32 {
        let at = self.record.offset(name);
        u32::from_le_bytes(self.bytes[at..at + 4].try_into().expect("4 bytes"))
    }
}

/// A pack whose header and tables were checked: every row's offsets fall inside the file, in
/// the area they belong to, strings are UTF-8 and NUL-terminated, rows are sorted, ranges of
/// rows are inside their tables, and the index matches its checksum. Blobs are checked
/// against their CRC-32C by [`Pack::module_bytes`] and friends, when asked for.
#[derive(Clone, Copy)]
pub struct Pack<'a> {
    bytes: &'a [u8],
    header: Record<'a>,
}

/// One module of a pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackModule<'a> {
    pub name: &'a str,
    pub origin: &'a str,
    pub flags: u32,
    /// Marshalled code (empty: none).
    pub code: &'a [u8],
    /// The source as stored (`flags & PYFREEZE_SOURCE_DEFLATE`: compressed); empty: none.
    pub source: &'a [u8],
    pub resources: std::ops::Range<u32>,
    crcs: (u32, u32),
}

/// A package data file, or a file of a distribution's metadata folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackFile<'a> {
    pub path: &'a str,
    pub data: &'a [u8],
    crc: u32,
}

/// A distribution's metadata folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackDistribution<'a> {
    pub name: &'a str,
    pub origin: &'a str,
    pub files: std::ops::Range<u32>,
}

impl<'a> Pack<'a> {
    /// Checks `bytes` as a pack (see [`Pack`]); `magic`: the bytecode magic number it must
    /// have been written for, if any.
    pub fn open(bytes: &'a [u8], magic: Option<u16>) -> Result<Pack<'a>, PackError> {
        let header_size = PACK_HEADER.size();
        if bytes.len() < 8 || bytes[..8] != PACK_MAGIC {
            return Err(PackError::NotAPack);
        }
        if bytes.len() < 16 {
            return Err(PackError::Truncated {
                expected: header_size as u64,
                found: bytes.len() as u64,
            });
        }
        let pack = Pack {
            bytes,
            header: Record {
                record: &PACK_HEADER,
                bytes,
            },
        };
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if version != PACK_FORMAT_VERSION {
            return Err(PackError::FormatVersion(version));
        }
        if bytes.len() < header_size {
            return Err(PackError::Truncated {
                expected: header_size as u64,
                found: bytes.len() as u64,
            });
        }
        let h = pack.header;
        if h.get("header_size") as usize != header_size {
            return Err(PackError::Corrupt(format!(
                "header size {}, not {header_size}",
                h.get("header_size")
            )));
        }
        let file_size = u64::from(h.get("file_size"));
        if file_size != bytes.len() as u64 {
            if file_size > bytes.len() as u64 {
                return Err(PackError::Truncated {
                    expected: file_size,
                    found: bytes.len() as u64,
                });
            }
            return Err(PackError::Corrupt(format!(
                "{} bytes where the header says {file_size}",
                bytes.len()
            )));
        }
        let bytecode = h.get("bytecode_magic");
        if bytecode >> 16 != u32::from(u16::from_le_bytes(*b"\r\n")) {
            return Err(PackError::Corrupt(
                "the bytecode magic does not end with CR LF".into(),
            ));
        }
        if let Some(expected) = magic {
            if bytecode & 0xffff != u32::from(expected) {
                return Err(PackError::BytecodeMagic {
                    pack: (bytecode & 0xffff) as u16,
                    expected,
                });
            }
        }
        if h.get("flags") != 0 || h.get("reserved") != 0 {
            return Err(PackError::Corrupt(format!(
                "unknown header flags {:#x}",
                h.get("flags")
            )));
        }
        let strings = pack.strings_area();
        if strings.start < header_size as u64 || strings.end > file_size {
            return Err(PackError::Corrupt(format!(
                "the string area {}..{} is outside the file",
                strings.start, strings.end
            )));
        }
        // The tables: aligned, inside the index (between the header and the strings).
        for (table, count, offset) in [
            (&PACK_MODULE, "module_count", "modules_offset"),
            (&PACK_RESOURCE, "resource_count", "resources_offset"),
            (
                &PACK_DISTRIBUTION,
                "distribution_count",
                "distributions_offset",
            ),
            (&PACK_DIST_FILE, "dist_file_count", "dist_files_offset"),
        ] {
            let (count, start) = (u64::from(h.get(count)), u64::from(h.get(offset)));
            let end = start + count * table.size() as u64;
            if start % 8 != 0 || start < header_size as u64 || end > strings.start {
                return Err(PackError::Corrupt(format!(
                    "the {} table ({count} rows at {start}) is outside the index",
                    table.name.to_lowercase()
                )));
            }
        }
        let index = &bytes[header_size..strings.end as usize];
        let crc = crc32(index);
        if crc != h.get("index_crc32") {
            return Err(PackError::Checksum(format!(
                "the index has CRC-32C {crc:#010x}, the header says {:#010x}",
                h.get("index_crc32")
            )));
        }
        pack.check_rows()?;
        Ok(pack)
    }

    fn strings_area(&self) -> std::ops::Range<u64> {
        let start = u64::from(self.header.get("strings_offset"));
        start..start + u64::from(self.header.get("strings_size"))
    }

    fn row(&self, table: &'static PackRecord, offset: &str, i: u32) -> Record<'a> {
        let start = self.header.get(offset) as usize + i as usize * table.size();
        Record {
            record: table,
            bytes: &self.bytes[start..start + table.size()],
        }
    }

    fn string(&self, row: Record<'a>, field: &str) -> Result<&'a str, PackError> {
        let (at, size) = (
            u64::from(row.get(field)),
            u64::from(row.get(&format!("{field}_size"))),
        );
        let area = self.strings_area();
        if at < area.start || at + size >= area.end {
            return Err(PackError::Corrupt(format!(
                "a {} `{field}` ({size} bytes at {at}) is outside the string area",
                row.record.name.to_lowercase()
            )));
        }
        let (at, size) = (at as usize, size as usize);
        if self.bytes[at + size] != 0 || self.bytes[at..at + size].contains(&0) {
            return Err(PackError::Corrupt(format!(
                "a {} `{field}` at {at} is not NUL-terminated at its size",
                row.record.name.to_lowercase()
            )));
        }
        std::str::from_utf8(&self.bytes[at..at + size]).map_err(|_| {
            PackError::Corrupt(format!(
                "a {} `{field}` at {at} is not UTF-8",
                row.record.name.to_lowercase()
            ))
        })
    }

    fn blob(&self, row: Record<'a>, field: &str) -> Result<&'a [u8], PackError> {
        let (at, size) = (
            u64::from(row.get(field)),
            u64::from(row.get(&format!("{field}_size"))),
        );
        if at < self.strings_area().end || at + size > self.bytes.len() as u64 {
            return Err(PackError::Corrupt(format!(
                "a {} `{field}` ({size} bytes at {at}) is outside the blob area",
                row.record.name.to_lowercase()
            )));
        }
        Ok(&self.bytes[at as usize..(at + size) as usize])
    }

    fn range(
        &self,
        row: Record<'a>,
        start: &str,
        count: &str,
        rows: u32,
    ) -> Result<std::ops::Range<u32>, PackError> {
        let (s, n) = (u64::from(row.get(start)), u64::from(row.get(count)));
        if s + n > u64::from(rows) {
            return Err(PackError::Corrupt(format!(
                "a {} names rows {s}..{} of a table of {rows}",
                row.record.name.to_lowercase(),
                s + n
            )));
        }
        Ok(s as u32..(s + n) as u32)
    }

    /// Every row, checked once at open: the accessors below then only index.
    fn check_rows(&self) -> Result<(), PackError> {
        let known = FLAGS.iter().fold(0, |all, (_, v, _)| all | v);
        let mut previous: Option<&str> = None;
        let mut covered = 0u32;
        for i in 0..self.module_count() {
            let m = self.read_module(i)?;
            if previous.is_some_and(|p| p.as_bytes() >= m.name.as_bytes()) {
                return Err(PackError::Corrupt(format!(
                    "module rows are not sorted by name ({:?} after {:?})",
                    m.name,
                    previous.unwrap_or_default()
                )));
            }
            previous = Some(m.name);
            if m.flags & !known != 0
                || (m.flags & FLAG_NAMESPACE != 0 && m.flags & FLAG_PACKAGE == 0)
                || self.row(&PACK_MODULE, "modules_offset", i).get("reserved") != 0
            {
                return Err(PackError::Corrupt(format!(
                    "module {:?} has flags {:#x}",
                    m.name, m.flags
                )));
            }
            if m.flags & FLAG_SOURCE_DEFLATE != 0 && m.source.len() < 4 {
                return Err(PackError::Corrupt(format!(
                    "module {:?}'s compressed source has no size",
                    m.name
                )));
            }
            if !m.resources.is_empty() {
                if m.resources.start != covered {
                    return Err(PackError::Corrupt(format!(
                        "module {:?}'s data rows start at {}, not {covered}",
                        m.name, m.resources.start
                    )));
                }
                covered = m.resources.end;
            }
            self.check_files(
                &PACK_RESOURCE,
                "resources_offset",
                m.resources.clone(),
                m.name,
            )?;
        }
        if covered != self.header.get("resource_count") {
            return Err(PackError::Corrupt(format!(
                "{} data rows, {covered} of them in a package",
                self.header.get("resource_count")
            )));
        }
        let mut previous: Option<&str> = None;
        let mut covered = 0u32;
        for i in 0..self.distribution_count() {
            let d = self.read_distribution(i)?;
            if previous.is_some_and(|p| p.as_bytes() >= d.name.as_bytes()) {
                return Err(PackError::Corrupt(
                    "distribution rows are not sorted by name".into(),
                ));
            }
            previous = Some(d.name);
            if d.files.start != covered {
                return Err(PackError::Corrupt(format!(
                    "distribution {:?}'s files start at {}, not {covered}",
                    d.name, d.files.start
                )));
            }
            covered = d.files.end;
            self.check_files(
                &PACK_DIST_FILE,
                "dist_files_offset",
                d.files.clone(),
                d.name,
            )?;
        }
        if covered != self.header.get("dist_file_count") {
            return Err(PackError::Corrupt(format!(
                "{} distribution file rows, {covered} of them in a distribution",
                self.header.get("dist_file_count")
            )));
        }
        Ok(())
    }

    /// Rows `range` of the package data or distribution file table (the files of `owner`):
    /// each readable, sorted by path, its reserved field 0.
    fn check_files(
        &self,
        table: &'static PackRecord,
        offset: &str,
        range: std::ops::Range<u32>,
        owner: &str,
    ) -> Result<(), PackError> {
        let mut previous: Option<&str> = None;
        for i in range {
            let f = self.read_file(table, offset, i)?;
            if previous.is_some_and(|p| p.as_bytes() >= f.path.as_bytes())
                || self.row(table, offset, i).get("reserved") != 0
            {
                return Err(PackError::Corrupt(format!(
                    "{owner:?}'s {} rows are out of order or have a reserved field set",
                    table.name.to_lowercase()
                )));
            }
            previous = Some(f.path);
        }
        Ok(())
    }

    fn read_module(&self, i: u32) -> Result<PackModule<'a>, PackError> {
        let row = self.row(&PACK_MODULE, "modules_offset", i);
        Ok(PackModule {
            name: self.string(row, "name")?,
            origin: self.string(row, "origin")?,
            flags: row.get("flags"),
            code: self.blob(row, "code")?,
            source: self.blob(row, "source")?,
            resources: self.range(
                row,
                "resources_start",
                "resources_count",
                self.header.get("resource_count"),
            )?,
            crcs: (row.get("code_crc32"), row.get("source_crc32")),
        })
    }

    fn read_file(
        &self,
        table: &'static PackRecord,
        offset: &str,
        i: u32,
    ) -> Result<PackFile<'a>, PackError> {
        let row = self.row(table, offset, i);
        Ok(PackFile {
            path: self.string(row, "path")?,
            data: self.blob(row, "data")?,
            crc: row.get("crc32"),
        })
    }

    fn read_distribution(&self, i: u32) -> Result<PackDistribution<'a>, PackError> {
        let row = self.row(&PACK_DISTRIBUTION, "distributions_offset", i);
        Ok(PackDistribution {
            name: self.string(row, "name")?,
            origin: self.string(row, "origin")?,
            files: self.range(
                row,
                "files_start",
                "files_count",
                self.header.get("dist_file_count"),
            )?,
        })
    }

    pub fn module_count(&self) -> u32 {
        self.header.get("module_count")
    }

    pub fn distribution_count(&self) -> u32 {
        self.header.get("distribution_count")
    }

    /// The bytecode magic number the pack was written for.
    pub fn bytecode_magic(&self) -> u16 {
        (self.header.get("bytecode_magic") & 0xffff) as u16
    }

    /// `sys.hexversion` of the interpreter that compiled it.
    pub fn target_hexversion(&self) -> u32 {
        self.header.get("target_hexversion")
    }

    /// Row `i` of the module table (checked at open).
    pub fn module(&self, i: u32) -> PackModule<'a> {
        self.read_module(i).expect("rows are checked at open")
    }

    /// The module named `name`, by binary search.
    pub fn find(&self, name: &str) -> Option<PackModule<'a>> {
        let (mut lo, mut hi) = (0, self.module_count());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let m = self.module(mid);
            match m.name.as_bytes().cmp(name.as_bytes()) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(m),
            }
        }
        None
    }

    /// A module's code and stored source, after checking their CRC-32C.
    pub fn module_bytes(&self, m: &PackModule<'a>) -> Result<(&'a [u8], &'a [u8]), PackError> {
        if crc32(m.code) != m.crcs.0 || crc32(m.source) != m.crcs.1 {
            return Err(PackError::Checksum(format!("module {}", m.name)));
        }
        Ok((m.code, m.source))
    }

    /// Row `i` of the package data table.
    pub fn resource(&self, i: u32) -> PackFile<'a> {
        self.read_file(&PACK_RESOURCE, "resources_offset", i)
            .expect("rows are checked at open")
    }

    /// Row `i` of the distribution table.
    pub fn distribution(&self, i: u32) -> PackDistribution<'a> {
        self.read_distribution(i).expect("rows are checked at open")
    }

    /// Row `i` of the distribution file table.
    pub fn dist_file(&self, i: u32) -> PackFile<'a> {
        self.read_file(&PACK_DIST_FILE, "dist_files_offset", i)
            .expect("rows are checked at open")
    }

    /// A data file's bytes, after checking their CRC-32C.
    pub fn file_bytes(&self, f: &PackFile<'a>) -> Result<&'a [u8], PackError> {
        if crc32(f.data) != f.crc {
            return Err(PackError::Checksum(format!("file {}", f.path)));
        }
        Ok(f.data)
    }

    /// Checks the whole pack against the header's SHA-256.
    pub fn verify_content(&self) -> Result<(), PackError> {
        let at = PACK_HEADER.offset("content_sha256");
        let digest: [u8; 32] = Sha256::digest(&self.bytes[PACK_HEADER.size()..]).into();
        if digest[..] != self.bytes[at..at + 32] {
            return Err(PackError::Checksum("the content's SHA-256".into()));
        }
        Ok(())
    }

    /// The header's SHA-256 of the content, in hex.
    pub fn content_sha256(&self) -> String {
        let at = PACK_HEADER.offset("content_sha256");
        self.bytes[at..at + 32]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn module(
        name: &str,
        kind: Kind,
        source: Option<&str>,
        resources: std::ops::Range<u32>,
    ) -> FrozenModule {
        FrozenModule {
            name: name.into(),
            kind,
            origin: format!("/app/{}.py", name.replace('.', "/")),
            path: None,
            code: format!("code of {name}").into_bytes(),
            source: source.map(|s| s.as_bytes().to_vec()),
            resources,
        }
    }

    fn file(package: &str, rel: &str, data: &str) -> FrozenResource {
        FrozenResource {
            package: package.into(),
            rel: rel.into(),
            path: PathBuf::from(rel),
            data: data.as_bytes().to_vec(),
        }
    }

    const OPTIONS: PackOptions = PackOptions {
        magic: 3571,
        hexversion: 0x030d0ff0,
        compress_source: true,
    };

    /// A small pack with a module of each kind, package data and a distribution.
    fn sample() -> Vec<u8> {
        let big = "x = 1\n".repeat(50);
        let modules = [
            module("game", Kind::Package, Some("from . import level\n"), 0..2),
            module("game.level", Kind::Module, Some(&big), 0..0),
            module("game.mods", Kind::Namespace, None, 0..0),
            module("util", Kind::Module, None, 2..2),
        ];
        let resources = [
            file("game", "maps/b.txt", "B"),
            file("game", "a.json", "{}"),
        ];
        let dist = FrozenDistribution {
            name: "game-1.0.dist-info".into(),
            origin: "/app/game-1.0.dist-info".into(),
            path: PathBuf::from("game-1.0.dist-info"),
            files: vec![file(
                "game-1.0.dist-info",
                "METADATA",
                "Name: game\nVersion: 1.0\n",
            )],
        };
        write_pack(&modules, &resources, &[dist], &OPTIONS).unwrap()
    }

    /// Recomputes the index checksum, so that a mutation reaches the row checks.
    fn fix_index_crc(bytes: &mut [u8]) {
        let h = Record {
            record: &PACK_HEADER,
            bytes,
        };
        let end =
            (h.get("strings_offset") as usize + h.get("strings_size") as usize).min(bytes.len());
        let start = PACK_HEADER.size().min(end);
        let crc = crc32(&bytes[start..end]);
        let at = PACK_HEADER.offset("index_crc32");
        bytes[at..at + 4].copy_from_slice(&crc.to_le_bytes());
    }

    /// Opens `bytes` and, if it opens, uses every row: nothing may panic.
    fn use_all(bytes: &[u8]) {
        if let Ok(pack) = Pack::open(bytes, Some(3571)) {
            for i in 0..pack.module_count() {
                let m = pack.module(i);
                assert_eq!(pack.find(m.name).map(|f| f.name), Some(m.name));
                let _ = pack.module_bytes(&m);
                for r in m.resources.clone() {
                    let _ = pack.file_bytes(&pack.resource(r));
                }
            }
            for i in 0..pack.distribution_count() {
                for f in pack.distribution(i).files {
                    let _ = pack.file_bytes(&pack.dist_file(f));
                }
            }
            let _ = pack.verify_content();
        }
    }

    #[test]
    fn crc32_is_castagnolis() {
        assert_eq!(crc32(b"123456789"), 0xE306_9283);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn a_pack_reads_back_what_was_written() {
        let bytes = sample();
        assert_eq!(bytes, sample(), "deterministic");
        let pack = Pack::open(&bytes, Some(3571)).unwrap();
        pack.verify_content().unwrap();
        assert_eq!(pack.bytecode_magic(), 3571);
        assert_eq!(pack.target_hexversion(), 0x030d0ff0);
        let names: Vec<&str> = (0..pack.module_count())
            .map(|i| pack.module(i).name)
            .collect();
        assert_eq!(names, ["game", "game.level", "game.mods", "util"]);
        let game = pack.find("game").unwrap();
        assert_eq!(game.flags, FLAG_PACKAGE);
        assert_eq!(game.origin, "/app/game.py");
        assert_eq!(
            pack.module_bytes(&game).unwrap(),
            (&b"code of game"[..], &b"from . import level\n"[..])
        );
        let data: Vec<(&str, &[u8])> = game
            .resources
            .clone()
            .map(|r| pack.resource(r))
            .map(|f| (f.path, pack.file_bytes(&f).unwrap()))
            .collect();
        assert_eq!(data, [("a.json", &b"{}"[..]), ("maps/b.txt", &b"B"[..])]);
        let level = pack.find("game.level").unwrap();
        assert_eq!(
            level.flags, FLAG_SOURCE_DEFLATE,
            "a long source is stored compressed"
        );
        let size = u32::from_le_bytes(level.source[..4].try_into().unwrap());
        assert_eq!(size, 300);
        assert_eq!(
            pack.find("game.mods").unwrap().flags,
            FLAG_PACKAGE | FLAG_NAMESPACE
        );
        assert!(pack.find("util").unwrap().source.is_empty());
        assert!(pack.find("gam").is_none() && pack.find("zzz").is_none());
        let dist = pack.distribution(0);
        assert_eq!(dist.name, "game-1.0.dist-info");
        let metadata = pack.dist_file(dist.files.start);
        assert_eq!(metadata.path, "METADATA");
        assert!(pack
            .file_bytes(&metadata)
            .unwrap()
            .starts_with(b"Name: game"));
    }

    #[test]
    fn an_empty_source_is_not_no_source() {
        for compress_source in [true, false] {
            let modules = [
                module("empty", Kind::Package, Some(""), 0..0),
                module("none", Kind::Module, None, 0..0),
            ];
            let options = PackOptions {
                compress_source,
                ..OPTIONS
            };
            let bytes = write_pack(&modules, &[], &[], &options).unwrap();
            let pack = Pack::open(&bytes, Some(3571)).unwrap();
            let empty = pack.find("empty").unwrap();
            assert_eq!(empty.flags & FLAG_SOURCE_DEFLATE, FLAG_SOURCE_DEFLATE);
            let (_, stored) = pack.module_bytes(&empty).unwrap();
            assert_eq!(stored[..4], [0, 0, 0, 0], "the decoded size");
            assert_eq!(
                miniz_oxide::inflate::decompress_to_vec(&stored[4..]).unwrap(),
                b""
            );
            let none = pack.find("none").unwrap();
            assert_eq!(pack.module_bytes(&none).unwrap().1, b"");
        }
    }

    #[test]
    fn bad_packs_give_their_reason() {
        let bytes = sample();
        assert_eq!(
            Pack::open(b"PK\x03\x04", None).err(),
            Some(PackError::NotAPack)
        );
        assert!(matches!(
            Pack::open(&bytes[..bytes.len() - 1], None).err(),
            Some(PackError::Truncated { .. })
        ));
        let mut future = bytes.clone();
        future[8] = 2;
        assert_eq!(
            Pack::open(&future, None).err(),
            Some(PackError::FormatVersion(2))
        );
        assert_eq!(
            Pack::open(&bytes, Some(3495)).err(),
            Some(PackError::BytecodeMagic {
                pack: 3571,
                expected: 3495
            })
        );
        // A changed index byte: the checksum; a changed blob byte: that module's checksum.
        let mut index = bytes.clone();
        index[PACK_HEADER.size() + 1] ^= 1;
        assert!(matches!(
            Pack::open(&index, None).err(),
            Some(PackError::Checksum(_))
        ));
        let mut blob = bytes.clone();
        let code_at = Pack::open(&bytes, None)
            .unwrap()
            .find("util")
            .unwrap()
            .code
            .as_ptr() as usize
            - bytes.as_ptr() as usize;
        blob[code_at] ^= 1;
        let pack = Pack::open(&blob, None).unwrap();
        assert_eq!(
            pack.module_bytes(&pack.find("util").unwrap()).err(),
            Some(PackError::Checksum("module util".into()))
        );
        assert!(matches!(
            pack.verify_content().err(),
            Some(PackError::Checksum(_))
        ));
        // A row pointing outside its area, behind a valid index checksum.
        let mut outside = bytes.clone();
        let at = PACK_HEADER.size() + PACK_MODULE.offset("code");
        outside[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        fix_index_crc(&mut outside);
        let err = Pack::open(&outside, None).err().unwrap();
        assert!(err.to_string().contains("outside the blob area"), "{err}");
    }

    #[test]
    fn every_truncation_and_every_byte_changed_is_handled() {
        let bytes = sample();
        for len in 0..bytes.len() {
            assert!(
                Pack::open(&bytes[..len], None).is_err(),
                "{len} bytes opened"
            );
        }
        let index_end = {
            let pack = Pack::open(&bytes, None).unwrap();
            pack.strings_area().end as usize
        };
        for at in 0..bytes.len() {
            for delta in [1u8, 0x80, 0xff] {
                let mut bad = bytes.clone();
                bad[at] ^= delta;
                use_all(&bad);
                if at < index_end {
                    fix_index_crc(&mut bad);
                    use_all(&bad);
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn random_changes_behind_a_valid_checksum_never_panic(
            changes in proptest::collection::vec((0usize..4096, proptest::prelude::any::<u8>()), 1..8)
        ) {
            let mut bytes = sample();
            for (at, value) in changes {
                let at = at % bytes.len();
                bytes[at] = value;
            }
            fix_index_crc(&mut bytes);
            use_all(&bytes);
        }
    }
}
