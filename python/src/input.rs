//! Photos and regions as Python hands them over: a path, or a numpy array that is borrowed
//! read-only (never copied on the Python side) and read straight into the core's pixel buffer
//! by the worker thread that analyses it, with the GIL released.

use std::path::{Path, PathBuf};

use numpy::ndarray::ArrayViewD;
use numpy::{PyReadonlyArrayDyn, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::prelude::*;
use smpscope::photo::MAX_PIXELS;
use smpscope::{Photo, Pixels, Roi};

use crate::errors::{Failure, err};

/// A photo held for the duration of a call: a path, a borrowed array, or what was wrong with it
/// (so that one bad photo of a batch becomes that photo's error, not the batch's).
pub enum Held<'py> {
    Path(PathBuf),
    U8(String, PyReadonlyArrayDyn<'py, u8>),
    U16(String, PyReadonlyArrayDyn<'py, u16>),
    F32(String, PyReadonlyArrayDyn<'py, f32>),
    F64(String, PyReadonlyArrayDyn<'py, f64>),
    Failed(Failure),
}

/// The same without Python objects: what worker threads read.
pub enum Input<'a> {
    Path(&'a Path, String),
    U8(&'a str, ArrayViewD<'a, u8>),
    U16(&'a str, ArrayViewD<'a, u16>),
    F32(&'a str, ArrayViewD<'a, f32>),
    F64(&'a str, ArrayViewD<'a, f64>),
}

impl Held<'_> {
    pub fn input(&self) -> Result<Input<'_>, Failure> {
        Ok(match self {
            Held::Path(p) => Input::Path(p, p.display().to_string()),
            Held::U8(l, a) => Input::U8(l, a.as_array()),
            Held::U16(l, a) => Input::U16(l, a.as_array()),
            Held::F32(l, a) => Input::F32(l, a.as_array()),
            Held::F64(l, a) => Input::F64(l, a.as_array()),
            Held::Failed(f) => return Err(f.clone()),
        })
    }
}

impl Input<'_> {
    /// The name errors and results use for this photo.
    pub fn label(&self) -> &str {
        match self {
            Input::Path(_, name) => name,
            Input::U8(l, _) | Input::U16(l, _) | Input::F32(l, _) | Input::F64(l, _) => l,
        }
    }

    /// Decodes the file or reads the array into a photo.
    pub fn load(&self) -> Result<Photo, Failure> {
        match self {
            Input::Path(p, _) => smpscope::photo::load_path(p).map_err(Failure::from),
            Input::U8(l, v) => from_view(l, v, |x| x, Pixels::U8),
            Input::U16(l, v) => from_view(l, v, |x| x, Pixels::U16),
            Input::F32(l, v) => from_view(l, v, |x| x, Pixels::F32),
            // float64 is narrowed to float32 in the same pass (0..1 values lose nothing that
            // an 8- or 16-bit photo holds).
            Input::F64(l, v) => from_view(l, v, |x| x as f32, Pixels::F32),
        }
    }
}

/// Checks the shape and size first (before allocating anything), then reads the pixels in one
/// pass: a straight copy of the buffer when the array is C-contiguous, a strided walk otherwise.
fn from_view<T: Copy, U>(
    label: &str,
    v: &ArrayViewD<'_, T>,
    convert: impl Fn(T) -> U,
    wrap: fn(Vec<U>) -> Pixels,
) -> Result<Photo, Failure> {
    let shape = v.shape();
    let (h, w, c) = match *shape {
        [h, w] => (h, w, 1),
        [h, w, c] => (h, w, c),
        _ => {
            return Err(Failure::unusable(
                label,
                format!("an array of shape {shape:?} is not a photo; expected HxW (grey), HxWx3 (RGB) or HxWx4 (RGBA)"),
            ));
        }
    };
    if !matches!(c, 1 | 3 | 4) {
        return Err(Failure::unusable(
            label,
            format!("shape {shape:?} has {c} channels per pixel; expected 1 (grey), 3 (RGB) or 4 (RGBA)"),
        ));
    }
    if h == 0 || w == 0 {
        return Err(Failure::unusable(label, format!("the array is empty (shape {shape:?})")));
    }
    if (h as u128) * (w as u128) > MAX_PIXELS as u128 {
        return Err(Failure::unusable(
            label,
            format!(
                "{w}x{h} px is {:.0} MP; photos up to {} MP are accepted",
                (w as f64) * (h as f64) / 1e6,
                MAX_PIXELS / 1_000_000
            ),
        ));
    }
    let data: Vec<U> = match v.as_slice() {
        Some(s) => s.iter().map(|&x| convert(x)).collect(),
        None => v.iter().map(|&x| convert(x)).collect(),
    };
    Photo::from_pixels(label, w, h, c, wrap(data)).map_err(Failure::from)
}

/// Takes hold of a photo argument: a path (str or os.PathLike) or anything numpy can view as an
/// array. A Python error comes back only for failures of Python itself; what is wrong with the
/// photo is kept in `Held::Failed`.
pub fn hold<'py>(py: Python<'py>, obj: &Bound<'py, PyAny>, label: &str) -> PyResult<Held<'py>> {
    if obj.is_instance_of::<pyo3::types::PyString>() || obj.hasattr("__fspath__")? {
        let path: PathBuf = obj.extract()?;
        return Ok(Held::Path(path));
    }
    let np = py.import("numpy")?;
    let mut arr = if obj.is_instance_of::<PyUntypedArray>() {
        obj.clone()
    } else if obj.hasattr("__array_interface__")? || obj.hasattr("__array__")? || obj.hasattr("__array_struct__")? {
        match np.call_method1("asarray", (obj,)) {
            Ok(a) => a,
            Err(e) => {
                return Ok(Held::Failed(Failure::unusable(label, format!("cannot be read as an array: {e}"))));
            }
        }
    } else {
        return Err(err(Failure::parameter(format!(
            "a photo must be a path (str or os.PathLike) or a numpy array, not {}",
            obj.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "this".into())
        ))));
    };
    let dtype = arr.getattr("dtype")?;
    let kind: String = dtype.getattr("kind")?.extract()?;
    let itemsize: usize = dtype.getattr("itemsize")?.extract()?;
    let native: bool = dtype.getattr("isnative")?.extract()?;
    // Byte-swapped and half-precision arrays are converted once; everything else is read as is.
    if !native && matches!((kind.as_str(), itemsize), ("u", 1 | 2) | ("f", 4 | 8)) {
        arr = arr.call_method1("astype", (dtype.call_method1("newbyteorder", ("=",))?,))?;
    } else if kind == "f" && itemsize == 2 {
        arr = arr.call_method1("astype", ("float32",))?;
    }
    let held = if let Ok(a) = arr.extract::<PyReadonlyArrayDyn<'py, u8>>() {
        Held::U8(label.into(), a)
    } else if let Ok(a) = arr.extract::<PyReadonlyArrayDyn<'py, u16>>() {
        Held::U16(label.into(), a)
    } else if let Ok(a) = arr.extract::<PyReadonlyArrayDyn<'py, f32>>() {
        Held::F32(label.into(), a)
    } else if let Ok(a) = arr.extract::<PyReadonlyArrayDyn<'py, f64>>() {
        Held::F64(label.into(), a)
    } else {
        let name = dtype.str().map(|s| s.to_string()).unwrap_or_else(|_| "unknown".into());
        let hint = match kind.as_str() {
            "i" | "u" => "; convert it, e.g. arr.astype(np.uint8) for 0..255 values",
            "b" => "; a boolean image holds no tone to measure",
            _ => "",
        };
        Held::Failed(Failure::unusable(
            label,
            format!("an array of dtype {name} is not supported: use uint8, uint16, or float in 0..1{hint}"),
        ))
    };
    Ok(held)
}

/// The region of interest: a file path (polygon JSON or mask image), a list of (x, y) vertices
/// in px, or a 2-D boolean mask.
pub fn roi_from_py(r: &Bound<'_, PyAny>) -> PyResult<Roi> {
    if r.is_instance_of::<pyo3::types::PyString>() || r.hasattr("__fspath__")? {
        let path: PathBuf = r.extract()?;
        return r.py().detach(|| Roi::load(&path)).map_err(|e| {
            let mut f = Failure::from(e);
            if f.kind == "io" {
                f.kind = "bad_input_file";
            }
            err(f)
        });
    }
    if let Ok(mask) = r.extract::<PyReadonlyArrayDyn<'_, bool>>() {
        let shape = mask.shape().to_vec();
        if shape.len() != 2 {
            return Err(err(Failure::parameter(format!("roi mask must be 2-D (height x width), not shape {shape:?}"))));
        }
        let view = mask.as_array();
        let inside = r.py().detach(|| view.iter().copied().collect());
        return Ok(Roi::Mask { width: shape[1], height: shape[0], inside });
    }
    if let Ok(points) = r.extract::<Vec<(f64, f64)>>() {
        let text =
            serde_json::to_string(&points.iter().map(|&(x, y)| [x, y]).collect::<Vec<_>>()).expect("numbers serialise");
        return Roi::parse_polygon(&text, "roi").map_err(|e| err(e.into()));
    }
    Err(err(Failure::parameter(
        "roi must be a path (polygon JSON or mask image), a list of (x, y) vertices in px, or a 2-D boolean mask",
    )))
}
