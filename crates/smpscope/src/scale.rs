//! Scale: how many pixels make a millimetre, and how much the camera itself blurs. Taken from
//! the caller, else from a device profile matched on the EXIF camera make and model, else
//! unknown, in which case lengths are reported as null, never guessed.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::check;
use crate::error::{Error, Result};
use crate::photo::ImageInfo;
use crate::warning::{Warning, WarningCode};

/// Where the scale came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScaleSource {
    /// Given by the caller (`px_per_mm`).
    Caller,
    /// From the calibration marker found in the photo (see [`crate::marker`]).
    Marker,
    /// From the device profile matched on the photo's EXIF camera make and model.
    DeviceProfile,
    /// Unknown: lengths, areas, ink and density are null.
    None,
}

/// The resolved scale of one photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scale {
    /// Pixels per millimetre; null when unknown.
    pub px_per_mm: Option<f64>,
    /// Where px_per_mm came from.
    pub source: ScaleSource,
    /// The camera's own blur as a Gaussian sigma in um, when known; it is removed from spread.
    pub camera_blur_um: Option<f64>,
}

impl Scale {
    /// Millimetres per pixel, when the scale is known.
    pub fn mm_per_px(&self) -> Option<f64> {
        self.px_per_mm.map(|s| 1.0 / s)
    }
}

/// One calibrated device: a camera (matched on EXIF make and model) at its standard set-up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceProfile {
    /// EXIF make, matched case-insensitively, ignoring surrounding spaces.
    pub make: String,
    /// EXIF model, matched the same way.
    pub model: String,
    /// Pixels per millimetre at the device's standard distance.
    pub px_per_mm: f64,
    /// The camera's blur (Gaussian sigma) in um, if it was calibrated.
    #[serde(default)]
    pub blur_um: Option<f64>,
}

/// A set of device profiles, read from TOML (`[[device]]` tables) or JSON (`{"device": [...]}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceProfiles {
    /// The profiles, in file order; the first that matches a photo is used.
    #[serde(default)]
    pub device: Vec<DeviceProfile>,
}

impl DeviceProfiles {
    /// Reads a profile file; `.json` is read as JSON, anything else as TOML.
    pub fn load(path: &Path) -> Result<Self> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Io { source_name: name.clone(), reason: e.to_string() })?;
        let json = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
        Self::parse(&text, json, &name)
    }

    /// Parses profile text (JSON or TOML) and checks every entry.
    pub fn parse(text: &str, json: bool, name: &str) -> Result<Self> {
        let profiles: DeviceProfiles = if json {
            serde_json::from_str(text).map_err(|e| {
                Error::input_file(name, format!("not a valid device profile: {}", check::explain_serde(&e.to_string())))
            })?
        } else {
            toml::from_str(text).map_err(|e| {
                Error::input_file(name, format!("not a valid device profile: {}", check::explain_serde(&e.to_string())))
            })?
        };
        for d in &profiles.device {
            let checked = crate::analysis::PX_PER_MM
                .check(d.px_per_mm)
                .and_then(|_| d.blur_um.map_or(Ok(()), |b| crate::analysis::CAMERA_BLUR_UM.check(b)));
            if let Err(e) = checked {
                let field = if let Error::InvalidParameter { name, reason } = e {
                    format!("{} {reason}", if name == "camera_blur_um" { "blur_um" } else { "px_per_mm" })
                } else {
                    e.to_string()
                };
                return Err(Error::input_file(name, format!("device {:?} {:?}: {field}", d.make, d.model)));
            }
        }
        Ok(profiles)
    }

    /// The profile of the camera that took this photo, if any.
    pub fn find(&self, make: &str, model: &str) -> Option<&DeviceProfile> {
        let norm = |s: &str| s.trim().to_lowercase();
        self.device.iter().find(|d| norm(&d.make) == norm(make) && norm(&d.model) == norm(model))
    }
}

/// Decides the scale of a photo: the caller's `px_per_mm`, else the device profile matched on the
/// EXIF make and model, else none (then px_per_mm is None). The warnings say what is missing.
///
/// ```
/// use smpscope::scale::{DeviceProfiles, ScaleSource, resolve};
/// let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures");
/// let profiles = DeviceProfiles::load(format!("{fixtures}/devices.toml").as_ref())?;
/// let photo = smpscope::photo::load_path(format!("{fixtures}/photos/demo-1.jpg").as_ref())?;
/// let mut warnings = Vec::new();
/// let scale = resolve(&photo.info, None, None, Some(&profiles), &mut warnings);
/// assert_eq!((scale.px_per_mm, scale.source), (Some(40.0), ScaleSource::DeviceProfile));
/// assert_eq!(scale.camera_blur_um, Some(15.0));
/// assert!(warnings.is_empty());
/// # Ok::<(), smpscope::Error>(())
/// ```
pub fn resolve(
    info: &ImageInfo,
    px_per_mm: Option<f64>,
    camera_blur_um: Option<f64>,
    profiles: Option<&DeviceProfiles>,
    warnings: &mut Vec<Warning>,
) -> Scale {
    resolve_with_marker(info, px_per_mm, camera_blur_um, None, profiles, warnings)
}

/// Relative difference between two scale sources above which a warning says they disagree.
pub const DISAGREEMENT: f64 = 0.02;

/// As [`resolve`], with the calibration marker found in the photo: the caller's scale, else the
/// marker's, else the device profile's; the camera blur in the same order. Where two sources
/// are given and differ by more than [`DISAGREEMENT`], a `scale_disagrees` warning names them.
pub fn resolve_with_marker(
    info: &ImageInfo,
    px_per_mm: Option<f64>,
    camera_blur_um: Option<f64>,
    marker: Option<&crate::marker::Marker>,
    profiles: Option<&DeviceProfiles>,
    warnings: &mut Vec<Warning>,
) -> Scale {
    let profile = match (profiles, &info.camera_make, &info.camera_model) {
        (Some(p), Some(make), Some(model)) => p.find(make, model),
        _ => None,
    };
    let sources = [
        ("the caller's", px_per_mm),
        ("the marker's", marker.map(|m| m.px_per_mm)),
        ("the device profile's", profile.map(|p| p.px_per_mm)),
    ];
    let given: Vec<(&str, f64)> = sources.iter().filter_map(|(n, v)| v.map(|v| (*n, v))).collect();
    if let [(first, a), rest @ ..] = given.as_slice() {
        for (other, b) in rest {
            if (a / b - 1.0).abs() > DISAGREEMENT {
                warnings.push(Warning::new(
                    WarningCode::ScaleDisagrees,
                    format!(
                        "{first} scale ({a:.2} px/mm, used) and {other} ({b:.2} px/mm) differ by {:.1} %: check the marker's print size, the distance or the profile",
                        100.0 * (a / b - 1.0)
                    ),
                ));
            }
        }
    }
    let marker_blur = marker.and_then(|m| m.camera_blur_um);
    if let (None, Some(m)) = (px_per_mm, marker) {
        let scale = Scale {
            px_per_mm: Some(m.px_per_mm),
            source: ScaleSource::Marker,
            camera_blur_um: camera_blur_um.or(marker_blur).or(profile.and_then(|p| p.blur_um)),
        };
        blur_warning(&scale, warnings);
        return scale;
    }
    let camera_blur_um = camera_blur_um.or(marker_blur);
    resolve_without_marker(px_per_mm, camera_blur_um, profile, warnings)
}

fn blur_warning(scale: &Scale, warnings: &mut Vec<Warning>) {
    if scale.px_per_mm.is_some() && scale.camera_blur_um.is_none() {
        warnings.push(Warning::new(
            WarningCode::BlurUnknown,
            "camera blur unknown: spread_um includes the camera's own blur (give camera_blur_um or a device profile with blur_um)",
        ));
    }
}

fn resolve_without_marker(
    px_per_mm: Option<f64>,
    camera_blur_um: Option<f64>,
    profile: Option<&DeviceProfile>,
    warnings: &mut Vec<Warning>,
) -> Scale {
    let scale = match (px_per_mm, profile) {
        (Some(s), _) => Scale {
            px_per_mm: Some(s),
            source: ScaleSource::Caller,
            camera_blur_um: camera_blur_um.or(profile.and_then(|p| p.blur_um)),
        },
        (None, Some(p)) => Scale {
            px_per_mm: Some(p.px_per_mm),
            source: ScaleSource::DeviceProfile,
            camera_blur_um: camera_blur_um.or(p.blur_um),
        },
        (None, None) => {
            warnings.push(Warning::new(
                WarningCode::NoScale,
                "no scale: give px_per_mm or a device profile for this camera; lengths, areas, ink and density are null",
            ));
            Scale { px_per_mm: None, source: ScaleSource::None, camera_blur_um }
        }
    };
    blur_warning(&scale, warnings);
    scale
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(make: Option<&str>, model: Option<&str>) -> ImageInfo {
        ImageInfo {
            source: "p.jpg".into(),
            format: "jpeg".into(),
            width: 100,
            height: 100,
            bit_depth: 8,
            colour_type: "rgb8".into(),
            orientation: 1,
            captured_at: None,
            camera_make: make.map(Into::into),
            camera_model: model.map(Into::into),
            chroma_subsampling: None,
        }
    }

    #[test]
    fn caller_then_profile_then_none() {
        let toml = "[[device]]\nmake = \"Canon\"\nmodel = \"Canon EOS 40D\"\npx_per_mm = 42.5\nblur_um = 9.0\n";
        let p = DeviceProfiles::parse(toml, false, "d.toml").unwrap();
        let json = r#"{"device": [{"make": "Canon", "model": "Canon EOS 40D", "px_per_mm": 42.5, "blur_um": 9.0}]}"#;
        assert_eq!(DeviceProfiles::parse(json, true, "d.json").unwrap(), p);
        let mut w = Vec::new();
        let s = resolve(&info(Some(" canon "), Some("CANON EOS 40D")), None, None, Some(&p), &mut w);
        assert_eq!((s.px_per_mm, s.source, s.camera_blur_um), (Some(42.5), ScaleSource::DeviceProfile, Some(9.0)));
        assert!(w.is_empty());
        let s = resolve(&info(Some("Canon"), Some("Canon EOS 40D")), Some(30.0), None, Some(&p), &mut w);
        assert_eq!((s.px_per_mm, s.source), (Some(30.0), ScaleSource::Caller));
        let s = resolve(&info(None, None), None, None, Some(&p), &mut w);
        assert_eq!((s.px_per_mm, s.source), (None, ScaleSource::None));
        assert!(w.iter().any(|w| w.code == crate::WarningCode::NoScale && w.message.contains("no scale")));
    }

    #[test]
    fn bad_profiles_are_refused_with_the_file_name() {
        let e =
            DeviceProfiles::parse("[[device]]\nmake='a'\nmodel='b'\npx_per_mm=-1\n", false, "bad.toml").unwrap_err();
        assert!(e.to_string().starts_with("bad.toml: "), "{e}");
        assert!(DeviceProfiles::parse("{", true, "bad.json").is_err());
    }
}
