//! The Python bindings of smpscope: convert Python inputs to core types, run the core with the
//! GIL released (on all cores through rayon), and map core errors to Python exceptions.
//! Results cross as compact JSON text, which the Python layer turns into plain, picklable data.
//! Nothing here measures anything: that is the core's job.

mod input;

// Analysing a 12 MP photo allocates and frees full-frame planes, about 1.2 GB in all: the system
// allocator hands each back to the kernel and faults the next one in afresh, where mimalloc
// reuses them (analysis 10-20 % faster; see the README's Speed).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use chrono::NaiveDate;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};
use rayon::prelude::*;
use smpscope::{Analysis, DeviceProfiles, Error, Params, Photo, Pixels, TrackParams, Visit};

use input::{Held, Input, hold, roi_from_py};

/// A failure on the Rust side, free of Python so that it can cross threads; it becomes an
/// exception of the class its kind names (see `smpscope/_errors.py`).
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub kind: &'static str,
    pub message: String,
    pub source: Option<String>,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure { kind: e.kind(), message: e.to_string(), source: e.source_name().map(str::to_string) }
    }
}

impl Failure {
    pub fn parameter(message: impl Into<String>) -> Self {
        Failure { kind: "invalid_parameter", message: message.into(), source: None }
    }
    pub fn unusable(source: &str, reason: impl std::fmt::Display) -> Self {
        Failure { kind: "unusable_photo", message: format!("{source}: {reason}"), source: Some(source.to_string()) }
    }
    /// A file given as a parameter (device profiles, region of interest): even when it cannot
    /// be read at all, the problem is the parameter, not a photo.
    fn input_file(e: Error) -> Self {
        let mut f = Failure::from(e);
        if f.kind == "io" {
            f.kind = "bad_input_file";
        }
        f
    }
    fn missing_scale(a: &Analysis) -> Self {
        let camera = match (&a.image.camera_make, &a.image.camera_model) {
            (Some(make), Some(model)) => format!("EXIF make {make:?}, model {model:?}"),
            _ => "no camera make/model in its EXIF".to_string(),
        };
        Failure {
            kind: "missing_scale",
            message: format!(
                "{}: no scale: give px_per_mm, or profiles= with a device profile for this camera ({camera}); lengths, ink and density would be null",
                a.image.source
            ),
            source: Some(a.image.source.clone()),
        }
    }
    fn internal(source: &str, what: &str) -> Self {
        Failure {
            kind: "internal",
            message: format!("{source}: internal error in smpscope ({what}); please report it with this photo"),
            source: Some(source.to_string()),
        }
    }
    fn cancelled(source: &str) -> Self {
        Failure {
            kind: "cancelled",
            message: format!("{source}: not analysed: the batch was interrupted"),
            source: Some(source.to_string()),
        }
    }
}

/// The Python class of each kind of failure.
fn class_name(kind: &str) -> &'static str {
    match kind {
        "io" | "unreadable_photo" | "unusable_photo" => "PhotoError",
        "invalid_parameter" | "bad_input_file" => "ParameterError",
        "missing_scale" => "ScaleError",
        "missing_date" => "DateError",
        "registration" => "RegistrationError",
        _ => "SmpscopeError",
    }
}

/// The exception object of a failure: `cls(message, kind, source)`.
fn exception(py: Python<'_>, f: Failure) -> PyErr {
    let made = py
        .import("smpscope._errors")
        .and_then(|m| m.getattr(class_name(f.kind)))
        .and_then(|cls| cls.call1((f.message, f.kind, f.source)));
    match made {
        Ok(value) => PyErr::from_value(value),
        Err(e) => e,
    }
}

pub(crate) fn err(f: Failure) -> PyErr {
    Python::attach(|py| exception(py, f))
}

/// Runs `f` and turns a panic into a failure naming `source` (nothing should panic; if the
/// core ever does, the interpreter must survive and a batch must go on).
fn guarded<T>(source: &str, f: impl FnOnce() -> Result<T, Failure>) -> Result<T, Failure> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".into());
        Err(Failure::internal(source, &what))
    })
}

/// Analysis parameters from their JSON form plus the region and the device profiles, which
/// have their own Python forms.
fn params(
    py: Python<'_>,
    params_json: &str,
    roi: Option<&Bound<'_, PyAny>>,
    profiles: Option<PathBuf>,
) -> PyResult<Params> {
    let mut p: Params =
        serde_json::from_str(params_json).map_err(|e| err(Failure::parameter(format!("invalid parameters: {e}"))))?;
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

/// A thread pool of `threads` threads, or None for rayon's global pool (all cores).
fn pool(threads: Option<usize>) -> PyResult<Option<rayon::ThreadPool>> {
    match threads {
        None => Ok(None),
        Some(n) if !(1..=1024).contains(&n) => {
            Err(err(Failure::parameter(format!("threads must be between 1 and 1024, not {n}"))))
        }
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .thread_name(|i| format!("smpscope-{i}"))
            .build()
            .map(Some)
            .map_err(|e| err(Failure::parameter(format!("cannot start {n} threads: {e}")))),
    }
}

fn run<T: Send>(pool: Option<&rayon::ThreadPool>, f: impl FnOnce() -> T + Send) -> T {
    match pool {
        Some(p) => p.install(f),
        None => f(),
    }
}

/// Reads and analyses one photo; with `require_scale`, a photo without a scale is a failure.
fn analyze_input(input: &Input<'_>, p: &Params, require_scale: bool) -> Result<Analysis, Failure> {
    guarded(input.label(), || {
        let photo = input.load()?;
        let a = smpscope::analyze_photo(&photo, p)?;
        if require_scale && a.scale.px_per_mm.is_none() {
            return Err(Failure::missing_scale(&a));
        }
        Ok(a)
    })
}

fn compact(a: &Analysis) -> String {
    serde_json::to_string(a).expect("an analysis always serialises")
}

/// Analyses one photo (a path or a numpy array); returns the analysis document as JSON.
#[pyfunction]
#[pyo3(signature = (photo, params_json="{}", roi=None, profiles=None, require_scale=false, threads=None))]
fn analyze(
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
fn analyze_many<'py>(
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

/// Follows the dots across visits. `visits` holds ("photo", path or array) or ("analysis",
/// analysis JSON) pairs; photos are analysed in parallel with the GIL released. Returns the
/// track document and the analysis document of every visit (input order), as JSON.
#[pyfunction]
#[pyo3(signature = (visits, dates=None, params_json="{}", track_params_json="{}", roi=None, profiles=None, require_scale=false, threads=None))]
#[allow(clippy::too_many_arguments)]
fn track<'py>(
    py: Python<'py>,
    visits: Vec<(String, Bound<'py, PyAny>)>,
    dates: Option<Vec<Option<String>>>,
    params_json: &str,
    track_params_json: &str,
    roi: Option<&Bound<'py, PyAny>>,
    profiles: Option<PathBuf>,
    require_scale: bool,
    threads: Option<usize>,
) -> PyResult<(String, Vec<String>)> {
    let tp: TrackParams = serde_json::from_str(track_params_json)
        .map_err(|e| err(Failure::parameter(format!("invalid tracking parameters: {e}"))))?;
    tp.validate().map_err(|e| err(e.into()))?;
    if visits.len() < 2 {
        return Err(err(Failure::parameter(format!("tracking needs at least two visits, not {}", visits.len()))));
    }
    let dates: Vec<Option<NaiveDate>> = match dates {
        None => vec![None; visits.len()],
        Some(d) if d.len() != visits.len() => {
            return Err(err(Failure::parameter(format!("{} dates for {} visits", d.len(), visits.len()))));
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
            .collect::<PyResult<_>>()?,
    };
    let p = params(py, params_json, roi, profiles)?;
    let pool = pool(threads)?;

    enum Given<'py> {
        Photo(Held<'py>),
        Analysis(Box<Analysis>),
    }
    let mut given = Vec::with_capacity(visits.len());
    for (i, (kind, obj)) in visits.iter().enumerate() {
        given.push(match kind.as_str() {
            "photo" => Given::Photo(hold(py, obj, &format!("<array #{i}>"))?),
            "analysis" => {
                let text: String = obj.extract()?;
                let a: Analysis = serde_json::from_str(&text)
                    .map_err(|e| err(Failure::parameter(format!("visit {i}: not an analysis document: {e}"))))?;
                if a.schema != smpscope::ANALYSIS_SCHEMA {
                    return Err(err(Failure::parameter(format!(
                        "visit {i}: schema {:?}, expected {:?}",
                        a.schema,
                        smpscope::ANALYSIS_SCHEMA
                    ))));
                }
                Given::Analysis(Box::new(a))
            }
            other => {
                return Err(err(Failure::parameter(format!("visit {i}: unknown kind {other:?}"))));
            }
        });
    }
    let inputs: Vec<Result<Option<Input<'_>>, Failure>> = given
        .iter()
        .map(|g| match g {
            Given::Photo(h) => h.input().map(Some),
            Given::Analysis(_) => Ok(None),
        })
        .collect();
    let analyses_given: Vec<Option<&Analysis>> =
        given.iter().map(|g| if let Given::Analysis(a) = g { Some(&**a) } else { None }).collect();

    let result = py.detach(|| {
        run(pool.as_ref(), || -> Result<(String, Vec<String>), Failure> {
            let analyses: Vec<Result<Analysis, Failure>> = inputs
                .par_iter()
                .zip(&analyses_given)
                .map(|(input, given)| match (input, given) {
                    (Err(f), _) => Err(f.clone()),
                    (Ok(Some(input)), _) => analyze_input(input, &p, require_scale),
                    (Ok(None), Some(a)) => {
                        if require_scale && a.scale.px_per_mm.is_none() {
                            return Err(Failure::missing_scale(a));
                        }
                        Ok((*a).clone())
                    }
                    (Ok(None), None) => unreachable!("a visit is a photo or an analysis"),
                })
                .collect();
            let analyses: Vec<Analysis> = analyses.into_iter().collect::<Result<_, _>>()?;
            let docs: Vec<String> = analyses.iter().map(compact).collect();
            let visits: Vec<Visit> =
                analyses.into_iter().zip(&dates).map(|(analysis, date)| Visit { analysis, date: *date }).collect();
            let t = guarded("tracking", || smpscope::track(visits, &tp).map_err(Failure::from))?;
            Ok((serde_json::to_string(&t).expect("a track always serialises"), docs))
        })
    });
    result.map_err(err)
}

/// Loads a photo (path or array) and the analysis to draw on it, scaled to `max_side`.
fn overlay_image(
    py: Python<'_>,
    photo: &Bound<'_, PyAny>,
    analysis_json: &str,
    max_side: Option<u32>,
) -> PyResult<image::RgbImage> {
    let mut analysis: Analysis = py
        .detach(|| serde_json::from_str(analysis_json))
        .map_err(|e| err(Failure::parameter(format!("not an analysis document: {e}"))))?;
    if let Some(m) = max_side
        && m < 64
    {
        return Err(err(Failure::parameter(format!("max_side must be at least 64 px, not {m}"))));
    }
    let held = hold(py, photo, "<array>")?;
    let input = held.input().map_err(err)?;
    py.detach(|| {
        guarded(input.label(), || {
            let photo = input.load()?;
            if (photo.info.width, photo.info.height) != (analysis.image.width, analysis.image.height) {
                return Err(Failure::parameter(format!(
                    "the photo is {}x{} px but the analysis is of a {}x{} px photo",
                    photo.info.width, photo.info.height, analysis.image.width, analysis.image.height
                )));
            }
            let long = photo.width().max(photo.height()) as f64;
            let k = max_side.map_or(1.0, |m| (m as f64 / long).min(1.0));
            if k >= 1.0 {
                return Ok(smpscope::overlay::draw(&photo, &analysis));
            }
            // A thumbnail: shrink the photo, then draw the dots at the new size so that every
            // dot stays visible.
            let (w, h) = (
                ((photo.width() as f64 * k).round() as u32).max(16),
                ((photo.height() as f64 * k).round() as u32).max(16),
            );
            let small = image::imageops::resize(&photo.to_rgb8(), w, h, image::imageops::FilterType::Triangle);
            let small = Photo::from_pixels(input.label(), w as usize, h as usize, 3, Pixels::U8(small.into_raw()))?;
            let (kx, ky) = (w as f64 / photo.width() as f64, h as f64 / photo.height() as f64);
            for d in &mut analysis.dots {
                d.x = (d.x + 0.5) * kx - 0.5;
                d.y = (d.y + 0.5) * ky - 0.5;
                d.fwhm_px *= kx;
                d.diameter_px *= kx;
            }
            Ok(smpscope::overlay::draw(&small, &analysis))
        })
    })
    .map_err(err)
}

/// The photo with the dots of `analysis_json` drawn, as an HxWx3 uint8 array (shrunk so that
/// its longer side is at most `max_side` px, when given).
#[pyfunction]
#[pyo3(signature = (photo, analysis_json, max_side=None))]
fn overlay<'py>(
    py: Python<'py>,
    photo: &Bound<'py, PyAny>,
    analysis_json: &str,
    max_side: Option<u32>,
) -> PyResult<Bound<'py, PyAny>> {
    let img = overlay_image(py, photo, analysis_json, max_side)?;
    let (w, h) = (img.width() as usize, img.height() as usize);
    let flat = numpy::PyArray1::from_vec(py, img.into_raw());
    use numpy::PyArrayMethods;
    Ok(flat.reshape([h, w, 3])?.into_any())
}

/// The same as a PNG file's bytes (for notebooks).
#[pyfunction]
#[pyo3(signature = (photo, analysis_json, max_side=None))]
fn overlay_png<'py>(
    py: Python<'py>,
    photo: &Bound<'py, PyAny>,
    analysis_json: &str,
    max_side: Option<u32>,
) -> PyResult<Bound<'py, PyBytes>> {
    let img = overlay_image(py, photo, analysis_json, max_side)?;
    let bytes = py.detach(|| {
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).map(|_| out.into_inner())
    });
    let bytes = bytes.map_err(|e| {
        err(Failure { kind: "internal", message: format!("cannot encode the overlay as PNG: {e}"), source: None })
    })?;
    Ok(PyBytes::new(py, &bytes))
}

/// Reads a device profile file (TOML or JSON) and returns it as JSON, checked.
#[pyfunction]
fn load_profiles(path: PathBuf) -> PyResult<String> {
    let p = DeviceProfiles::load(&path).map_err(|e| err(Failure::input_file(e)))?;
    Ok(serde_json::to_string(&p).expect("profiles serialise"))
}

/// The default analysis and tracking parameters, as JSON.
#[pyfunction]
fn default_params() -> (String, String) {
    (
        serde_json::to_string(&Params::default()).expect("params serialise"),
        serde_json::to_string(&TrackParams::default()).expect("params serialise"),
    )
}

/// The number of threads rayon's global pool runs (all cores unless RAYON_NUM_THREADS says).
#[pyfunction]
fn default_threads() -> usize {
    rayon::current_num_threads()
}

#[pymodule]
fn _smpscope(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(analyze, m)?)?;
    m.add_function(wrap_pyfunction!(analyze_many, m)?)?;
    m.add_function(wrap_pyfunction!(track, m)?)?;
    m.add_function(wrap_pyfunction!(overlay, m)?)?;
    m.add_function(wrap_pyfunction!(overlay_png, m)?)?;
    m.add_function(wrap_pyfunction!(load_profiles, m)?)?;
    m.add_function(wrap_pyfunction!(default_params, m)?)?;
    m.add_function(wrap_pyfunction!(default_threads, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("ANALYSIS_SCHEMA", smpscope::ANALYSIS_SCHEMA)?;
    m.add("TRACK_SCHEMA", smpscope::TRACK_SCHEMA)?;
    m.add("MAX_PIXELS", smpscope::photo::MAX_PIXELS)?;
    Ok(())
}
