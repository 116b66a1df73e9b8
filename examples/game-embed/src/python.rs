//! The few CPython calls the game makes, declared by hand. All of them are in the stable
//! ABI, so these declarations hold for every CPython 3.10-3.13; the version-dependent
//! start-up (`PyConfig`) is `pyfreeze::Interpreter`'s, from pyfreeze-build.

use std::ffi::{c_char, c_int, CString};
use std::marker::PhantomData;
use std::ptr::NonNull;

/// CPython's object header, never touched from Rust.
#[repr(C)]
pub struct PyObject {
    _opaque: [u8; 0],
}

extern "C" {
    fn PyGILState_Ensure() -> c_int;
    fn PyGILState_Release(state: c_int);
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
        // SAFETY: we own one reference, and hold the GIL: an Object lives in code that
        // borrowed the `Python` it came from, which releases the GIL only when dropped.
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

/// The GIL, held by this thread while the value lives (`PyGILState_Ensure`/`Release`).
/// Not `Send`: it is released by the thread that took it.
pub struct Python {
    state: c_int,
    _not_send: PhantomData<*const ()>,
}

impl Python {
    /// Takes the GIL. `interpreter` is the running CPython (`pyfreeze::Interpreter`), which
    /// must outlive this `Python` and every object made through it.
    pub fn attach(interpreter: &crate::pyfreeze::Interpreter) -> Python {
        let _ = interpreter;
        // SAFETY: CPython is initialised (an Interpreter exists).
        let state = unsafe { PyGILState_Ensure() };
        Python {
            state,
            _not_send: PhantomData,
        }
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
        // SAFETY: the state PyGILState_Ensure returned on this thread; no Object outlives
        // the Python it came from.
        unsafe { PyGILState_Release(self.state) }
    }
}
