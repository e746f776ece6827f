//! The Python bindings of smpscope: convert Python inputs to core types, run the core with the
//! GIL released (on all cores through rayon), and map core errors to Python exceptions.
//! Results cross as compact JSON text, which the Python layer turns into plain, picklable data.
//! Nothing here measures anything: that is the core's job. One file per feature; this one only
//! registers them.

mod analyze;
mod errors;
mod input;
mod overlay;
mod params;
mod report;
mod track;

// Analysing a 12 MP photo allocates and frees full-frame planes, about 1.2 GB in all: the system
// allocator hands each back to the kernel and faults the next one in afresh, where mimalloc
// reuses them, kept (as in the command: docs/decisions.md#freed-memory-kept).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use pyo3::prelude::*;

#[pymodule]
fn _smpscope(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // mimalloc's mi_option_purge_delay (15): -1 keeps freed memory for reuse, as the command does.
    // SAFETY: sets one option of the allocator; any value is valid and it is read atomically.
    unsafe { libmimalloc_sys::mi_option_set(15, -1) };
    m.add_function(wrap_pyfunction!(analyze::analyze, m)?)?;
    m.add_function(wrap_pyfunction!(analyze::analyze_many, m)?)?;
    m.add_function(wrap_pyfunction!(track::track, m)?)?;
    m.add_function(wrap_pyfunction!(report::report, m)?)?;
    m.add_function(wrap_pyfunction!(overlay::overlay, m)?)?;
    m.add_function(wrap_pyfunction!(overlay::overlay_png, m)?)?;
    m.add_function(wrap_pyfunction!(params::load_profiles, m)?)?;
    m.add_function(wrap_pyfunction!(params::default_params, m)?)?;
    m.add_function(wrap_pyfunction!(params::default_threads, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("ANALYSIS_SCHEMA", smpscope::ANALYSIS_SCHEMA)?;
    m.add("TRACK_SCHEMA", smpscope::TRACK_SCHEMA)?;
    m.add("MAX_PIXELS", smpscope::photo::MAX_PIXELS)?;
    Ok(())
}
