//! `track`: visits (photos or analysis documents) in, the track document out, the GIL released.

use std::path::PathBuf;

use pyo3::prelude::*;
use rayon::prelude::*;
use smpscope::{Analysis, Visit};

use crate::analyze::{analyze_input, compact};
use crate::errors::{Failure, err, guarded};
use crate::input::{Held, Input, hold};
use crate::params::{params, parse_dates, pool, run, track_params};

/// Follows the dots across visits. `visits` holds ("photo", path or array) or ("analysis",
/// analysis JSON) pairs; photos are analysed in parallel with the GIL released. Returns the
/// track document and the analysis document of every visit (input order), as JSON.
#[pyfunction]
#[pyo3(signature = (visits, dates=None, params_json="{}", track_params_json="{}", roi=None, profiles=None, require_scale=false, threads=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn track<'py>(
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
    let tp = track_params(track_params_json)?;
    if visits.len() < 2 {
        return Err(err(Failure::parameter(format!("tracking needs at least two visits, not {}", visits.len()))));
    }
    let dates = parse_dates(dates, visits.len())?;
    let p = params(py, params_json, roi, profiles)?;
    let pool = pool(threads)?;

    let given =
        visits.iter().enumerate().map(|(i, (kind, obj))| given(py, i, kind, obj)).collect::<PyResult<Vec<_>>>()?;
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

/// One visit as given: a photo to analyse, or an analysis document already made.
enum Given<'py> {
    Photo(Held<'py>),
    Analysis(Box<Analysis>),
}

/// Visit `i` of kind "photo" (a path or an array, held for the analysis) or "analysis" (its
/// JSON, read and its schema checked); an error naming the visit otherwise.
fn given<'py>(py: Python<'py>, i: usize, kind: &str, obj: &Bound<'py, PyAny>) -> PyResult<Given<'py>> {
    match kind {
        "photo" => Ok(Given::Photo(hold(py, obj, &format!("<array #{i}>"))?)),
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
            Ok(Given::Analysis(Box::new(a)))
        }
        other => Err(err(Failure::parameter(format!("visit {i}: unknown kind {other:?}")))),
    }
}
