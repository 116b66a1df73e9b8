//! The few CPython calls the game makes, declared by hand. All of them are in the stable
//! ABI, so these declarations hold for every CPython 3.10-3.13; the version-dependent
//! start-up (`PyConfig`) is in `embed.c`, compiled against the target's `Python.h`.

use std::ffi::{c_char, c_int, CString};
use std::ptr::NonNull;

/// CPython's object header, never touched from Rust.
#[repr(C)]
pub struct PyObject {
    _opaque: [u8; 0],
}

extern "C" {
    fn Py_FinalizeEx() -> c_int;
    fn Py_DecRef(o: *mut PyObject);
    fn PyImport_ImportModule(name: *const c_char) -> *mut PyObject;
    fn PyObject_GetAttrString(o: *mut PyObject, name: *const c_char) -> *mut PyObject;
    fn PyObject_CallObject(callable: *mut PyObject, args: *mut PyObject) -> *mut PyObject;
    fn PyObject_Str(o: *mut PyObject) -> *mut PyObject;
    fn PyTuple_New(len: isize) -> *mut PyObject;
    fn PyTuple_SetItem(tuple: *mut PyObject, pos: isize, o: *mut PyObject) -> c_int;
    fn PyLong_FromLongLong(v: i64) -> *mut PyObject;
    fn PyUnicode_FromStringAndSize(s: *const c_char, len: isize) -> *mut PyObject;
    fn PyUnicode_AsUTF8AndSize(o: *mut PyObject, len: *mut isize) -> *const c_char;
    fn PyErr_Print();

    // embed.c
    fn game_python_start(dynload: *const c_char, argc: c_int, argv: *mut *mut c_char) -> c_int;
}

/// A Python exception is set; [`PyErr::print`] shows its traceback.
#[derive(Debug)]
#[must_use]
pub struct PyErr(());

impl PyErr {
    /// Prints the traceback (with source lines, served from the frozen table) to stderr
    /// through `sys.excepthook`, and clears the exception.
    pub fn print(self) {
        // SAFETY: an exception is set (that is what a PyErr means) and the GIL is held.
        unsafe { PyErr_Print() }
    }
}

/// A strong reference, released on drop.
pub struct Object(NonNull<PyObject>);

fn check(p: *mut PyObject) -> Result<Object, PyErr> {
    NonNull::new(p).map(Object).ok_or(PyErr(()))
}

impl Drop for Object {
    fn drop(&mut self) {
        // SAFETY: we own one reference; the interpreter outlives every Object (`Python`
        // finalises only when dropped, after the objects of the code that borrowed it).
        unsafe { Py_DecRef(self.0.as_ptr()) }
    }
}

impl Object {
    /// `getattr(self, name)`.
    pub fn getattr(&self, name: &str) -> Result<Object, PyErr> {
        let name = CString::new(name).expect("attribute names have no NUL");
        // SAFETY: valid object and C string; a new reference or NULL with an exception.
        check(unsafe { PyObject_GetAttrString(self.0.as_ptr(), name.as_ptr()) })
    }

    /// `self(*args)`.
    pub fn call(&self, args: Vec<Object>) -> Result<Object, PyErr> {
        // SAFETY: a new tuple of the right size; PyTuple_SetItem steals each reference,
        // so the Objects are forgotten rather than dropped.
        unsafe {
            let tuple = check(PyTuple_New(args.len() as isize))?;
            for (i, arg) in args.into_iter().enumerate() {
                let p = arg.0.as_ptr();
                std::mem::forget(arg);
                if PyTuple_SetItem(tuple.0.as_ptr(), i as isize, p) < 0 {
                    return Err(PyErr(()));
                }
            }
            check(PyObject_CallObject(self.0.as_ptr(), tuple.0.as_ptr()))
        }
    }

    /// `str(self)` as a Rust string.
    pub fn text(&self) -> Result<String, PyErr> {
        // SAFETY: valid object; PyUnicode_AsUTF8AndSize returns a buffer owned by `s`,
        // copied before `s` is dropped.
        unsafe {
            let s = check(PyObject_Str(self.0.as_ptr()))?;
            let mut len = 0isize;
            let p = PyUnicode_AsUTF8AndSize(s.0.as_ptr(), &mut len);
            if p.is_null() {
                return Err(PyErr(()));
            }
            let bytes = std::slice::from_raw_parts(p.cast::<u8>(), len as usize);
            Ok(String::from_utf8_lossy(bytes).into_owned())
        }
    }
}

/// The running interpreter: created once, finalised on drop.
pub struct Python(());

impl Python {
    /// Starts CPython with `dynload` as the only `sys.path` entry and `args` as `sys.argv`.
    /// Call `pyfreeze::install()` first. `None` when it did not start (`embed.c` said why).
    pub fn start(dynload: &str, args: &[String]) -> Option<Python> {
        let dynload = CString::new(dynload).ok()?;
        let args: Vec<CString> = args
            .iter()
            .map(|a| CString::new(a.as_str()).unwrap_or_default())
            .collect();
        let mut argv: Vec<*mut c_char> = args.iter().map(|a| a.as_ptr().cast_mut()).collect();
        // SAFETY: NUL-terminated strings that outlive the call (CPython copies them).
        let rc =
            unsafe { game_python_start(dynload.as_ptr(), argv.len() as c_int, argv.as_mut_ptr()) };
        (rc == 0).then_some(Python(()))
    }

    /// `import name`.
    pub fn import(&self, name: &str) -> Result<Object, PyErr> {
        let name = CString::new(name).expect("module names have no NUL");
        // SAFETY: initialised interpreter, valid C string.
        check(unsafe { PyImport_ImportModule(name.as_ptr()) })
    }

    /// A Python `str`.
    pub fn str(&self, s: &str) -> Result<Object, PyErr> {
        // SAFETY: valid UTF-8 of the given length.
        check(unsafe { PyUnicode_FromStringAndSize(s.as_ptr().cast(), s.len() as isize) })
    }

    /// A Python `int`.
    pub fn int(&self, v: i64) -> Result<Object, PyErr> {
        // SAFETY: no preconditions beyond an initialised interpreter.
        check(unsafe { PyLong_FromLongLong(v) })
    }
}

impl Drop for Python {
    fn drop(&mut self) {
        // SAFETY: started by `start`; no Object outlives the Python it came from.
        unsafe {
            Py_FinalizeEx();
        }
    }
}
