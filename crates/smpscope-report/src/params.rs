//! How the report is drawn: picture sizes and quality, histogram bins.

use serde::{Deserialize, Serialize};

use crate::ReportError;

/// What a caller can set for the report; every field has a sensible default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportParams {
    /// Longer side of each visit's photo in the report, px (the photo is downscaled to it).
    pub photo_max_side_px: u32,
    /// Side of the 1:1 crop of the registered region shown for every visit, px of the first
    /// visit.
    pub crop_side_px: u32,
    /// JPEG quality of the downscaled photos, 1-100 (the crops are lossless PNG).
    pub jpeg_quality: u8,
    /// Bins of each histogram.
    pub histogram_bins: usize,
}

impl Default for ReportParams {
    /// 1400 px photos at quality 85 and 360 px crops keep a 5-visit report of 12 MP photos
    /// within a few MB.
    fn default() -> Self {
        ReportParams { photo_max_side_px: 1400, crop_side_px: 360, jpeg_quality: 85, histogram_bins: 24 }
    }
}

impl ReportParams {
    /// Checks every number is in its range.
    pub fn validate(&self) -> Result<(), ReportError> {
        let check = |name: &'static str, v: f64, lo: f64, hi: f64| {
            if (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(ReportError::Parameter { name, reason: format!("{v} is outside {lo}-{hi}") })
            }
        };
        check("photo_max_side_px", f64::from(self.photo_max_side_px), 200.0, 8000.0)?;
        check("crop_side_px", f64::from(self.crop_side_px), 32.0, 2000.0)?;
        check("jpeg_quality", f64::from(self.jpeg_quality), 1.0, 100.0)?;
        check("histogram_bins", self.histogram_bins as f64, 4.0, 200.0)
    }
}
