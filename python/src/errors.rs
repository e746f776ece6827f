//! Failures on the Rust side and the Python exceptions they become.

use std::panic::{AssertUnwindSafe, catch_unwind};

use pyo3::prelude::*;
use smpscope::{Analysis, Error};

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
    pub fn input_file(e: Error) -> Self {
        let mut f = Failure::from(e);
        if f.kind == "io" {
            f.kind = "bad_input_file";
        }
        f
    }
    pub fn missing_scale(a: &Analysis) -> Self {
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
    pub fn internal(source: &str, what: &str) -> Self {
        Failure {
            kind: "internal",
            message: format!("{source}: internal error in smpscope ({what}); please report it with this photo"),
            source: Some(source.to_string()),
        }
    }
    pub fn cancelled(source: &str) -> Self {
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
        "io" | "unreadable_photo" | "unusable_photo" | "pure_noise" | "clipped" | "not_scalp" => "PhotoError",
        "invalid_parameter" | "bad_input_file" => "ParameterError",
        "missing_scale" => "ScaleError",
        "missing_date" => "DateError",
        "registration" => "RegistrationError",
        _ => "SmpscopeError",
    }
}

/// The exception object of a failure: `cls(message, kind, source)`.
pub(crate) fn exception(py: Python<'_>, f: Failure) -> PyErr {
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
pub(crate) fn guarded<T>(source: &str, f: impl FnOnce() -> Result<T, Failure>) -> Result<T, Failure> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".into());
        Err(Failure::internal(source, &what))
    })
}
