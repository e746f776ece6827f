//! The Python bindings: convert Python inputs to core types, run the core with the GIL
//! released, and map core errors to Python exceptions. Results cross as JSON text, which the
//! Python layer turns into plain, picklable data.

use numpy::{PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use smpscope::{Error, Params, Photo, Pixels, Roi};

create_exception!(_smpscope, SmpscopeError, PyException, "Base class of every smpscope error.");
create_exception!(_smpscope, PhotoError, SmpscopeError, "A photo could not be read or measured.");
create_exception!(_smpscope, ParameterError, SmpscopeError, "A parameter or an input file (profile, region) is invalid.");

fn to_py(e: Error) -> PyErr {
    match e {
        Error::Io { .. } | Error::Unreadable { .. } | Error::Unusable { .. } => PhotoError::new_err(e.to_string()),
        Error::InvalidParameter { .. } | Error::BadInputFile { .. } => ParameterError::new_err(e.to_string()),
    }
}

/// Parameters from their JSON form plus the region, which has its own Python forms.
fn params(params_json: &str, roi: Option<&Bound<'_, PyAny>>) -> PyResult<Params> {
    let mut p: Params = serde_json::from_str(params_json).map_err(|e| ParameterError::new_err(format!("invalid parameters: {e}")))?;
    if let Some(r) = roi.filter(|r| !r.is_none()) {
        p.roi = Some(roi_from_py(r)?);
    }
    p.validate().map_err(to_py)?;
    Ok(p)
}

fn roi_from_py(r: &Bound<'_, PyAny>) -> PyResult<Roi> {
    if let Ok(path) = r.extract::<std::path::PathBuf>() {
        return Roi::load(&path).map_err(to_py);
    }
    if let Ok(mask) = r.extract::<PyReadonlyArrayDyn<'_, bool>>() {
        let shape = mask.shape().to_vec();
        if shape.len() != 2 {
            return Err(ParameterError::new_err(format!("roi mask must be 2-D (height x width), not shape {shape:?}")));
        }
        return Ok(Roi::Mask { width: shape[1], height: shape[0], inside: mask.as_array().iter().copied().collect() });
    }
    if let Ok(points) = r.extract::<Vec<(f64, f64)>>() {
        let text = serde_json::to_string(&points.iter().map(|&(x, y)| [x, y]).collect::<Vec<_>>()).expect("numbers serialise");
        return Roi::parse_polygon(&text, "roi").map_err(to_py);
    }
    Err(ParameterError::new_err("roi must be a path (polygon JSON or mask image), a list of (x, y) vertices in px, or a 2-D boolean mask"))
}

/// A photo from a numpy array: HxW, HxWx3 or HxWx4 of uint8, uint16, or float in 0..1.
fn photo_from_array(a: &Bound<'_, PyAny>) -> PyResult<Photo> {
    let shape: Vec<usize> = a.getattr("shape")?.extract()?;
    let (h, w, c) = match shape.as_slice() {
        [h, w] => (*h, *w, 1),
        [h, w, c] => (*h, *w, *c),
        _ => return Err(PhotoError::new_err(format!("<array>: shape {shape:?} is not HxW, HxWx3 or HxWx4"))),
    };
    let pixels = if let Ok(v) = a.extract::<PyReadonlyArrayDyn<'_, u8>>() {
        Pixels::U8(v.as_array().iter().copied().collect())
    } else if let Ok(v) = a.extract::<PyReadonlyArrayDyn<'_, u16>>() {
        Pixels::U16(v.as_array().iter().copied().collect())
    } else if let Ok(v) = a.extract::<PyReadonlyArrayDyn<'_, f32>>() {
        Pixels::F32(v.as_array().iter().copied().collect())
    } else if let Ok(v) = a.extract::<PyReadonlyArrayDyn<'_, f64>>() {
        Pixels::F32(v.as_array().iter().map(|&x| x as f32).collect())
    } else {
        let dtype = a.getattr("dtype").map(|d| d.to_string()).unwrap_or_else(|_| "unknown".into());
        return Err(PhotoError::new_err(format!("<array>: dtype {dtype} is not supported; use uint8, uint16 or float in 0..1")));
    };
    Photo::from_pixels("<array>", w, h, c, pixels).map_err(to_py)
}

fn load(py: Python<'_>, photo: &Bound<'_, PyAny>) -> PyResult<Photo> {
    if let Ok(path) = photo.extract::<std::path::PathBuf>() {
        return py.detach(|| smpscope::photo::load_path(&path)).map_err(to_py);
    }
    if photo.hasattr("__array_interface__")? || photo.hasattr("__array__")? {
        let np = py.import("numpy")?;
        let arr = np.call_method1("asarray", (photo,))?;
        return photo_from_array(&arr);
    }
    Err(PhotoError::new_err("photo must be a path or a numpy array"))
}

/// Analyses one photo (a path or a numpy array); returns the analysis document as JSON.
#[pyfunction]
#[pyo3(signature = (photo, params_json, roi=None))]
fn analyze(py: Python<'_>, photo: &Bound<'_, PyAny>, params_json: &str, roi: Option<&Bound<'_, PyAny>>) -> PyResult<String> {
    let p = params(params_json, roi)?;
    let photo = load(py, photo)?;
    py.detach(|| smpscope::analyze_photo(&photo, &p).map(|a| a.to_json())).map_err(to_py)
}

/// The photo with the dots of `analysis_json` drawn, as an HxWx3 uint8 array.
#[pyfunction]
fn overlay<'py>(py: Python<'py>, photo: &Bound<'py, PyAny>, analysis_json: &str) -> PyResult<Bound<'py, PyAny>> {
    let analysis: smpscope::Analysis = serde_json::from_str(analysis_json).map_err(|e| ParameterError::new_err(format!("not an analysis: {e}")))?;
    let photo = load(py, photo)?;
    let img = py.detach(|| smpscope::overlay::draw(&photo, &analysis));
    let (w, h) = (img.width() as usize, img.height() as usize);
    let flat = numpy::PyArray1::from_vec(py, img.into_raw());
    Ok(flat.reshape([h, w, 3])?.into_any())
}

#[pymodule]
fn _smpscope(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(analyze, m)?)?;
    m.add_function(wrap_pyfunction!(overlay, m)?)?;
    m.add("SmpscopeError", m.py().get_type::<SmpscopeError>())?;
    m.add("PhotoError", m.py().get_type::<PhotoError>())?;
    m.add("ParameterError", m.py().get_type::<ParameterError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
