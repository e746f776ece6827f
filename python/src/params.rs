//! Parameters, device profiles and thread pools as the bindings take them.

use std::path::PathBuf;

use chrono::NaiveDate;
use pyo3::prelude::*;
use smpscope::{DeviceProfiles, Params, TrackParams};

use crate::errors::{Failure, err};
use crate::input::roi_from_py;

/// Analysis parameters from their JSON form plus the region and the device profiles, which
/// have their own Python forms.
pub(crate) fn params(
    py: Python<'_>,
    params_json: &str,
    roi: Option<&Bound<'_, PyAny>>,
    profiles: Option<PathBuf>,
) -> PyResult<Params> {
    let mut p: Params = serde_json::from_str(params_json).map_err(|e| {
        err(Failure::parameter(format!("invalid parameters: {}", smpscope::check::explain_serde(&e.to_string()))))
    })?;
    if let Some(r) = roi.filter(|r| !r.is_none()) {
        p.roi = Some(roi_from_py(r)?);
    }
    if let Some(path) = profiles {
        let loaded = py.detach(|| DeviceProfiles::load(&path));
        p.device_profiles = Some(loaded.map_err(|e| err(Failure::input_file(e)))?);
    }
    p.validate().map_err(|e| err(e.into()))?;
    Ok(p)
}

/// Tracking parameters from their JSON form, validated.
pub(crate) fn track_params(track_params_json: &str) -> PyResult<TrackParams> {
    let tp: TrackParams = serde_json::from_str(track_params_json).map_err(|e| {
        err(Failure::parameter(format!(
            "invalid tracking parameters: {}",
            smpscope::check::explain_serde(&e.to_string())
        )))
    })?;
    tp.validate().map_err(|e| err(e.into()))?;
    Ok(tp)
}

/// The visit dates: none given (each from its EXIF), or one per visit (None for its EXIF date),
/// as YYYY-MM-DD.
pub(crate) fn parse_dates(dates: Option<Vec<Option<String>>>, visits: usize) -> PyResult<Vec<Option<NaiveDate>>> {
    match dates {
        None => Ok(vec![None; visits]),
        Some(d) if d.len() != visits => {
            Err(err(Failure::parameter(format!("{} dates for {} visits", d.len(), visits))))
        }
        Some(d) => d
            .iter()
            .enumerate()
            .map(|(i, s)| {
                s.as_deref()
                    .map(|s| {
                        NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
                            err(Failure::parameter(format!("dates[{i}]: {s:?} is not a date (YYYY-MM-DD)")))
                        })
                    })
                    .transpose()
            })
            .collect(),
    }
}

/// A thread pool of `threads` threads, or None for rayon's global pool (all cores).
pub(crate) fn pool(threads: Option<usize>) -> PyResult<Option<rayon::ThreadPool>> {
    match threads {
        None => Ok(None),
        Some(n) if smpscope::check::THREADS.check(n as f64).is_err() => {
            Err(err(smpscope::check::THREADS.check(n as f64).unwrap_err().into()))
        }
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .thread_name(|i| format!("smpscope-{i}"))
            .build()
            .map(Some)
            .map_err(|e| err(Failure::parameter(format!("cannot start {n} threads: {e}")))),
    }
}

pub(crate) fn run<T: Send>(pool: Option<&rayon::ThreadPool>, f: impl FnOnce() -> T + Send) -> T {
    match pool {
        Some(p) => p.install(f),
        None => f(),
    }
}

/// Reads a device profile file (TOML or JSON) and returns it as JSON, checked.
#[pyfunction]
pub(crate) fn load_profiles(path: PathBuf) -> PyResult<String> {
    let p = DeviceProfiles::load(&path).map_err(|e| err(Failure::input_file(e)))?;
    Ok(serde_json::to_string(&p).expect("profiles serialise"))
}

/// The default analysis and tracking parameters, as JSON.
#[pyfunction]
pub(crate) fn default_params() -> (String, String) {
    (
        serde_json::to_string(&Params::default()).expect("params serialise"),
        serde_json::to_string(&TrackParams::default()).expect("params serialise"),
    )
}

/// The number of threads rayon's global pool runs (all cores unless RAYON_NUM_THREADS says).
#[pyfunction]
pub(crate) fn default_threads() -> usize {
    rayon::current_num_threads()
}
