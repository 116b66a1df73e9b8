//! The one place that lists the CPython versions pyfreeze supports and what differs between
//! them. Adding a minor version means adding a row here (and, for a patched build, a patch
//! series under `cpython-patches/X.Y/`).

use crate::schema::StockLayout;

/// What pyfreeze knows about one CPython minor version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PythonVersion {
    pub major: u8,
    pub minor: u8,
    /// `importlib.util.MAGIC_NUMBER` of every release of this minor (the first two bytes).
    pub magic: u16,
    /// `marshal.version`.
    pub marshal_version: u8,
    /// Layout of `struct _frozen` in `Include/cpython/import.h`.
    pub stock_layout: StockLayout,
    /// Whether the default `sys.excepthook` prints through the C traceback printer, which
    /// only reads source lines from files (3.11, 3.12); from 3.13 it goes through `traceback`.
    pub c_excepthook: bool,
    /// Patch series under `cpython-patches/` for a fully frozen build, if any.
    pub patch_series: Option<&'static str>,
    /// The Debian source versions of `python3.X` the patch series is made for: it applies
    /// strictly to each (`tests/cpython.rs` checks them all). Empty without a series.
    pub debian_sources: &'static [&'static str],
    /// The one of `debian_sources` that patched builds pin with `pyfreeze cpython build
    /// --debian-version` (the tests, the bench's hint); `None`: the newest that apt serves.
    pub debian_pinned: Option<&'static str>,
}

/// Every supported minor version, oldest first.
pub const SUPPORTED: &[PythonVersion] = &[
    PythonVersion {
        major: 3,
        minor: 10,
        magic: 3439,
        marshal_version: 4,
        stock_layout: StockLayout::V310,
        c_excepthook: true,
        patch_series: None,
        debian_sources: &[],
        debian_pinned: None,
    },
    PythonVersion {
        major: 3,
        minor: 11,
        magic: 3495,
        marshal_version: 4,
        stock_layout: StockLayout::V311,
        c_excepthook: true,
        patch_series: Some("3.11"),
        debian_sources: &["3.11.2-6+deb12u8"],
        debian_pinned: None,
    },
    PythonVersion {
        major: 3,
        minor: 12,
        magic: 3531,
        marshal_version: 4,
        stock_layout: StockLayout::V311,
        c_excepthook: true,
        patch_series: None,
        debian_sources: &[],
        debian_pinned: None,
    },
    PythonVersion {
        major: 3,
        minor: 13,
        magic: 3571,
        marshal_version: 4,
        stock_layout: StockLayout::V313,
        c_excepthook: false,
        patch_series: Some("3.13"),
        debian_sources: &["3.13.15-1", "3.13.5-2+deb13u5"],
        debian_pinned: Some("3.13.15-1"),
    },
    // Stock-libpython mode only, tested with Debian sid's binary packages (ci/sid-root.sh):
    // no source package is served for a patch series yet.
    PythonVersion {
        major: 3,
        minor: 14,
        magic: 3627,
        marshal_version: 5,
        stock_layout: StockLayout::V313,
        c_excepthook: false,
        patch_series: None,
        debian_sources: &[],
        debian_pinned: None,
    },
    PythonVersion {
        major: 3,
        minor: 15,
        magic: 3666,
        marshal_version: 6,
        stock_layout: StockLayout::V313,
        c_excepthook: false,
        patch_series: None,
        debian_sources: &[],
        debian_pinned: None,
    },
];

impl PythonVersion {
    /// Looks up a supported `major.minor`.
    pub fn find(major: u8, minor: u8) -> Option<&'static PythonVersion> {
        SUPPORTED
            .iter()
            .find(|v| v.major == major && v.minor == minor)
    }

    /// Parses `"3.11"` (a patch level such as `"3.11.7"` is accepted and ignored).
    pub fn parse(text: &str) -> Option<&'static PythonVersion> {
        let mut parts = text.trim().split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        if let Some(patch) = parts.next() {
            patch.parse::<u32>().ok()?;
        }
        if parts.next().is_some() {
            return None;
        }
        Self::find(major, minor)
    }

    /// `"3.11"`.
    pub fn name(&self) -> String {
        format!("{}.{}", self.major, self.minor)
    }

    /// `PY_VERSION_HEX` with micro, release level and serial zeroed.
    pub fn hexversion(&self) -> u32 {
        (u32::from(self.major) << 24) | (u32::from(self.minor) << 16)
    }
}

/// `"3.10, 3.11, ..."`, for error messages and docs.
pub fn supported_list() -> String {
    SUPPORTED
        .iter()
        .map(|v| v.name())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_minor_and_patch_levels() {
        assert_eq!(PythonVersion::parse("3.11").unwrap().magic, 3495);
        assert_eq!(PythonVersion::parse("3.13.5").unwrap().minor, 13);
        assert!(PythonVersion::parse("3.9").is_none());
        assert!(PythonVersion::parse("3").is_none());
        assert!(PythonVersion::parse("3.11.x").is_none());
        assert!(PythonVersion::parse("3.11.1.1").is_none());
    }

    #[test]
    fn debian_sources_belong_to_their_series() {
        for v in SUPPORTED {
            assert_eq!(
                v.patch_series.is_some(),
                !v.debian_sources.is_empty(),
                "{v:?}"
            );
            for source in v.debian_sources {
                assert!(source.starts_with(&format!("{}.", v.name())), "{source}");
            }
            if let Some(pinned) = v.debian_pinned {
                assert!(v.debian_sources.contains(&pinned), "{pinned}");
            }
        }
    }

    #[test]
    fn versions_are_sorted_and_unique() {
        for pair in SUPPORTED.windows(2) {
            assert!((pair[0].major, pair[0].minor) < (pair[1].major, pair[1].minor));
            assert!(pair[0].magic < pair[1].magic);
        }
    }
}
