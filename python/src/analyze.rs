//! `analyze` and `analyze_many`: photos in, analysis documents (JSON) out, the GIL released.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use pyo3::prelude::*;
use pyo3::types::PyList;
use rayon::prelude::*;
use smpscope::{Analysis, Params};

use crate::errors::{Failure, err, exception, guarded};
use crate::input::{Held, Input, hold};
use crate::params::{params, pool, run};

/// Reads and analyses one photo; with `require_scale`, a photo without a scale is a failure.
pub(crate) fn analyze_input(input: &Input<'_>, p: &Params, require_scale: bool) -> Result<Analysis, Failure> {
    guarded(input.label(), || {
        let photo = input.load()?;
        let a = smpscope::analyze_photo(&photo, p)?;
        if require_scale && a.scale.px_per_mm.is_none() {
            return Err(Failure::missing_scale(&a));
        }
        Ok(a)
    })
}

pub(crate) fn compact(a: &Analysis) -> String {
    serde_json::to_string(a).expect("an analysis always serialises")
}

/// Analyses one photo (a path or a numpy array); returns the analysis document as JSON.
#[pyfunction]
#[pyo3(signature = (photo, params_json="{}", roi=None, profiles=None, require_scale=false, threads=None))]
pub(crate) fn analyze(
    py: Python<'_>,
    photo: &Bound<'_, PyAny>,
    params_json: &str,
    roi: Option<&Bound<'_, PyAny>>,
    profiles: Option<PathBuf>,
    require_scale: bool,
    threads: Option<usize>,
) -> PyResult<String> {
    let p = params(py, params_json, roi, profiles)?;
    let pool = pool(threads)?;
    let held = hold(py, photo, "<array>")?;
    let input = held.input().map_err(err)?;
    py.detach(|| run(pool.as_ref(), || analyze_input(&input, &p, require_scale).map(|a| compact(&a)))).map_err(err)
}

/// Analyses many photos on all cores, in parallel, with the GIL released. Returns, in input
/// order, the analysis JSON of each photo or the exception object of its failure. `progress`
/// is called as `progress(done, total)` on the calling thread as photos finish.
#[pyfunction]
#[pyo3(signature = (photos, params_json="{}", roi=None, profiles=None, require_scale=false, threads=None, progress=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn analyze_many<'py>(
    py: Python<'py>,
    photos: Vec<Bound<'py, PyAny>>,
    params_json: &str,
    roi: Option<&Bound<'py, PyAny>>,
    profiles: Option<PathBuf>,
    require_scale: bool,
    threads: Option<usize>,
    progress: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyList>> {
    let p = params(py, params_json, roi, profiles)?;
    let pool = pool(threads)?;
    let held: Vec<Held<'py>> =
        photos.iter().enumerate().map(|(i, ph)| hold(py, ph, &format!("<array #{i}>"))).collect::<PyResult<_>>()?;
    let inputs: Vec<Result<Input<'_>, Failure>> = held.iter().map(Held::input).collect();
    let total = inputs.len();
    let progress: Option<Py<PyAny>> = progress.filter(|c| !c.is_none()).map(Bound::unbind);
    let cancelled = AtomicBool::new(false);

    let (results, interrupted) = py.detach(|| {
        let (tx, rx) = mpsc::channel::<(usize, Result<String, Failure>)>();
        let (inputs, p, cancelled, pool) = (&inputs, &p, &cancelled, pool.as_ref());
        std::thread::scope(|s| {
            s.spawn(move || {
                run(pool, || {
                    inputs.par_iter().enumerate().for_each_with(tx, |tx, (i, input)| {
                        let r = match input {
                            Err(f) => Err(f.clone()),
                            Ok(_) if cancelled.load(Ordering::Relaxed) => {
                                Err(Failure::cancelled(&format!("photo {i}")))
                            }
                            Ok(input) => analyze_input(input, p, require_scale).map(|a| compact(&a)),
                        };
                        let _ = tx.send((i, r));
                    })
                })
            });
            // Results arrive here, on the calling thread, as photos finish: report progress
            // and watch for Ctrl-C, holding the GIL only for that moment.
            let mut results: Vec<Option<Result<String, Failure>>> = (0..total).map(|_| None).collect();
            let mut interrupted: Option<PyErr> = None;
            for (done, (i, r)) in rx.iter().enumerate() {
                results[i] = Some(r);
                if interrupted.is_none() {
                    let step = Python::attach(|py| -> PyResult<()> {
                        py.check_signals()?;
                        if let Some(cb) = &progress {
                            cb.call1(py, (done + 1, total))?;
                        }
                        Ok(())
                    });
                    if let Err(e) = step {
                        cancelled.store(true, Ordering::Relaxed);
                        interrupted = Some(e);
                    }
                }
            }
            (results, interrupted)
        })
    });
    if let Some(e) = interrupted {
        return Err(e);
    }
    let out = PyList::empty(py);
    for (i, r) in results.into_iter().enumerate() {
        match r.unwrap_or_else(|| Err(Failure::internal(&format!("photo {i}"), "no result"))) {
            Ok(json) => out.append(json)?,
            Err(f) => out.append(exception(py, f).into_value(py))?,
        }
    }
    Ok(out)
}
