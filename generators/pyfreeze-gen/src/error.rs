//! The generator's error type: every variant names the file or input at fault and, where
//! there is one, the fix.

use std::fmt;
use std::path::PathBuf;

/// A compile failure of one source file, reported as `file:line:col: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError {
    /// The real path of the file (not its mapped origin), so an editor can open it.
    pub path: PathBuf,
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.path.display(),
            self.line.max(1),
            self.column.max(1),
            self.message
        )
    }
}

#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A spec file, flag or setter is malformed.
    Spec {
        origin: String,
        message: String,
        hint: Option<String>,
    },
    /// An I/O operation on a named path failed.
    Io {
        path: PathBuf,
        action: &'static str,
        source: std::io::Error,
    },
    /// The target interpreter could not be run or answered nonsense.
    Interpreter {
        python: PathBuf,
        message: String,
        hint: Option<String>,
    },
    /// The interpreter runs, but is not the version the spec asks for, or is unsupported.
    Version { python: PathBuf, message: String },
    /// Problems found while discovering modules (clashes, invalid names, globs matching
    /// nothing); all of them, sorted.
    Discovery(Vec<String>),
    /// Source files that do not compile; all of them, sorted by path.
    Compile(Vec<SourceError>),
    /// The output folder cannot be used.
    Output { path: PathBuf, message: String },
    /// App modules import stdlib modules that the selection leaves out (`check_imports`):
    /// one line per import, `file:line: ...`, sorted; `modules` are the missing names.
    MissingStdlib {
        problems: Vec<String>,
        modules: Vec<String>,
        hint: String,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(
        path: impl Into<PathBuf>,
        action: &'static str,
        source: std::io::Error,
    ) -> Self {
        Error::Io {
            path: path.into(),
            action,
            source,
        }
    }
}

impl Error {
    /// What went wrong, without the hint (`Display` shows both).
    pub fn message(&self) -> String {
        Message(self).to_string()
    }

    /// How to fix it, when the generator knows a fix that its message does not say.
    pub fn hint(&self) -> Option<&str> {
        match self {
            Error::Spec { hint, .. } | Error::Interpreter { hint, .. } => hint.as_deref(),
            Error::MissingStdlib { hint, .. } => Some(hint),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", Message(self))?;
        match self.hint() {
            Some(hint) => write!(f, "\n  hint: {hint}"),
            None => Ok(()),
        }
    }
}

/// An error's message without its hint.
struct Message<'a>(&'a Error);

impl fmt::Display for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Error::Spec {
                origin, message, ..
            } if origin.is_empty() => write!(f, "{message}"),
            Error::Spec {
                origin, message, ..
            } => write!(f, "{origin}: {message}"),
            Error::Io {
                path,
                action,
                source,
            } => write!(f, "cannot {action} {}: {source}", path.display()),
            Error::Interpreter {
                python, message, ..
            } => {
                write!(f, "target interpreter {}: {message}", python.display())
            }
            Error::Version { python, message } => {
                write!(f, "target interpreter {}: {message}", python.display())
            }
            Error::Discovery(problems) => {
                write!(f, "{} problem(s) in the selected modules:", problems.len())?;
                for p in problems {
                    write!(f, "\n  {p}")?;
                }
                Ok(())
            }
            Error::Compile(errors) => {
                write!(f, "{} file(s) do not compile:", errors.len())?;
                for e in errors {
                    write!(f, "\n  {e}")?;
                }
                Ok(())
            }
            Error::Output { path, message } => {
                write!(f, "output folder {}: {message}", path.display())
            }
            Error::MissingStdlib { problems, .. } => {
                write!(
                    f,
                    "{} import(s) of stdlib modules that are not frozen (the program would stop \
                     with `No module named ...`):",
                    problems.len()
                )?;
                for p in problems {
                    write!(f, "\n  {p}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
