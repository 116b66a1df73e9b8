//! The error type of pyfreeze-build: a message naming the input at fault, a hint naming the
//! fix, and an optional cause. [`Error::report`] renders the framed text that
//! [`Build::compile`](crate::Build::compile) prints before it exits.

use std::fmt;

/// What went wrong, for callers that want to react to a kind of failure. New kinds may be
/// added in minor releases.
///
/// ```
/// use pyfreeze_build::{Build, ErrorKind};
/// match Build::new().try_compile("pyfreeze") {
///     Err(e) if e.kind() == ErrorKind::Selection => eprintln!("check the roots: {e}"),
///     Err(e) => panic!("{}", e.report()),
///     Ok(_) => unreachable!("nothing was selected"),
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The target interpreter cannot be found, run, or is not a supported CPython.
    Interpreter,
    /// The interpreter's version is not the one the build asks for.
    VersionMismatch,
    /// The static libpython, its headers, or a Python config file is missing or malformed.
    Libpython,
    /// The selection of modules is wrong: a pattern matching nothing, a clash, a bad spec.
    Selection,
    /// A selected Python file does not compile.
    Syntax,
    /// Reading inputs or writing into `OUT_DIR` failed.
    Io,
    /// The C compiler failed on the generated tables.
    CCompile,
    /// bindgen could not produce the Rust bindings.
    Bindings,
    /// The build is not run the way pyfreeze-build needs (no `OUT_DIR`, bad argument).
    Usage,
    /// PyO3, in the same package, is configured for another CPython or links libpython
    /// itself.
    Pyo3,
}

/// A pyfreeze-build error. Its `Display` is the message, lowercase and without a trailing
/// period; [`Error::hint`] says how to fix it.
///
/// ```
/// use pyfreeze_build::{Build, ErrorKind};
/// // No root and no stdlib: there is nothing to freeze.
/// let err = Build::new().try_compile("pyfreeze").unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Selection);
/// assert_eq!(err.to_string(), "nothing to freeze");
/// assert!(err.hint().unwrap().contains("Build::root"));
/// ```
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    hint: Option<String>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            hint: None,
            source: None,
        }
    }

    pub(crate) fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub(crate) fn with_source(
        mut self,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// The kind of failure.
    ///
    /// ```
    /// # use pyfreeze_build::{Build, ErrorKind};
    /// let err = Build::new().try_compile("pyfreeze").unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Selection);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message without the hint: what is wrong and with which input.
    ///
    /// ```
    /// # use pyfreeze_build::Build;
    /// let err = Build::new().try_compile("pyfreeze").unwrap_err();
    /// assert_eq!(err.message(), "nothing to freeze");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }

    /// How to fix it, when there is something to say.
    ///
    /// ```
    /// # use pyfreeze_build::Build;
    /// let err = Build::new().try_compile("pyfreeze").unwrap_err();
    /// assert!(err.hint().unwrap().contains("`Build::stdlib`"));
    /// ```
    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }

    /// The framed report [`Build::compile`](crate::Build::compile) prints: every line starts
    /// with the crate name, between two rules, so it stands out in Cargo's output.
    ///
    /// ```
    /// # use pyfreeze_build::Build;
    /// let report = Build::new().try_compile("pyfreeze").unwrap_err().report();
    /// let lines: Vec<&str> = report.lines().collect();
    /// assert_eq!(lines[1], "pyfreeze-build: error: nothing to freeze");
    /// assert!(lines[2].starts_with("pyfreeze-build: hint: add a folder of modules"));
    /// ```
    pub fn report(&self) -> String {
        const RULE: &str =
            "-----------------------------------------------------------------------------";
        let mut body: Vec<String> = Vec::new();
        let mut first = true;
        for line in self.message.lines() {
            body.push(if first {
                format!("error: {line}")
            } else {
                line.to_string()
            });
            first = false;
        }
        let mut cause = self.source.as_deref().map(|e| e as &dyn std::error::Error);
        while let Some(e) = cause {
            body.push(format!("caused by: {e}"));
            cause = e.source();
        }
        if let Some(hint) = &self.hint {
            for (i, line) in hint.lines().enumerate() {
                body.push(if i == 0 {
                    format!("hint: {line}")
                } else {
                    format!("      {line}")
                });
            }
        }
        let mut out = format!("{RULE}\n");
        for line in body {
            out.push_str("pyfreeze-build: ");
            out.push_str(&line);
            out.push('\n');
        }
        out.push_str(RULE);
        out.push('\n');
        out
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_frames_every_line_with_the_crate_name() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let e = Error::new(ErrorKind::Io, "cannot read /a\n  second line")
            .with_source(io)
            .with_hint("check the path\nor another");
        assert_eq!(
            e.report(),
            "-----------------------------------------------------------------------------\n\
             pyfreeze-build: error: cannot read /a\n\
             pyfreeze-build:   second line\n\
             pyfreeze-build: caused by: no such file\n\
             pyfreeze-build: hint: check the path\n\
             pyfreeze-build:       or another\n\
             -----------------------------------------------------------------------------\n"
        );
    }
}
