//! SQLite allocates through mimalloc, like the rest of the CLI.
//!
//! The bundled SQLite calls C's `malloc`, which is glibc's: in a queue seed that was about
//! 8 % of the samples, plus the kernel clearing fresh pages (docs/PERFORMANCE.md). Overriding
//! `malloc` for the whole process (mimalloc's `override` feature) corrupted memory that libc
//! itself allocates, so instead SQLite is handed mimalloc through its own allocator hook,
//! `sqlite3_config(SQLITE_CONFIG_MALLOC)`, which touches nothing but SQLite.

use libmimalloc_sys::{mi_free, mi_malloc, mi_realloc, mi_usable_size};
use rusqlite::ffi;
use std::ffi::{c_int, c_void};

unsafe extern "C" fn x_malloc(n: c_int) -> *mut c_void {
    // SAFETY: mi_malloc accepts any size; SQLite never asks for a negative one.
    unsafe { mi_malloc(usize::try_from(n).unwrap_or(0)) }
}

unsafe extern "C" fn x_free(p: *mut c_void) {
    // SAFETY: `p` came from x_malloc or x_realloc (SQLite frees only what it allocated here).
    unsafe { mi_free(p) }
}

unsafe extern "C" fn x_realloc(p: *mut c_void, n: c_int) -> *mut c_void {
    // SAFETY: as x_malloc and x_free.
    unsafe { mi_realloc(p, usize::try_from(n).unwrap_or(0)) }
}

unsafe extern "C" fn x_size(p: *mut c_void) -> c_int {
    // SAFETY: `p` is a live allocation of ours; SQLite's allocations fit in an int.
    c_int::try_from(unsafe { mi_usable_size(p) }).unwrap_or(c_int::MAX)
}

unsafe extern "C" fn x_roundup(n: c_int) -> c_int {
    (n + 7) & !7
}

unsafe extern "C" fn x_init(_: *mut c_void) -> c_int {
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_shutdown(_: *mut c_void) {}

/// Hands SQLite mimalloc. Must run before SQLite is first used (first thing in `main`).
pub fn install() {
    let methods = ffi::sqlite3_mem_methods {
        xMalloc: Some(x_malloc),
        xFree: Some(x_free),
        xRealloc: Some(x_realloc),
        xSize: Some(x_size),
        xRoundup: Some(x_roundup),
        xInit: Some(x_init),
        xShutdown: Some(x_shutdown),
        pAppData: std::ptr::null_mut(),
    };
    // SAFETY: no SQLite call has happened yet and no other thread exists; SQLite copies the
    // struct (SQLITE_CONFIG_MALLOC), so a local is enough.
    let rc = unsafe { ffi::sqlite3_config(ffi::SQLITE_CONFIG_MALLOC, &methods as *const ffi::sqlite3_mem_methods) };
    assert_eq!(rc, ffi::SQLITE_OK, "sqlite3_config(SQLITE_CONFIG_MALLOC) must run before SQLite is initialised");
}
