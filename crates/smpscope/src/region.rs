//! The treated region: given as a polygon or a mask, otherwise found from where the dots are,
//! otherwise the whole frame. Density is dots per area of this region.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use geometry::{clip_to_frame, fill_holes, point_in_polygon, shoelace};

mod geometry;

/// A region of interest handed in by the caller, in upright pixel coordinates.
#[derive(Debug, Clone, PartialEq)]
pub enum Roi {
    /// Polygon vertices (x, y) in px.
    Polygon(Vec<[f64; 2]>),
    /// Inside where true; row-major, the photo's upright size.
    Mask {
        /// Width in px; must be the photo's upright width.
        width: usize,
        /// Height in px; must be the photo's upright height.
        height: usize,
        /// `width * height` flags, row after row: true inside the region.
        inside: Vec<bool>,
    },
}

impl Roi {
    /// Reads a polygon JSON (`[[x, y], ...]` or `{"polygon": [[x, y], ...]}`) or, for any
    /// other extension, a mask image (non-zero pixels are inside).
    pub fn load(path: &Path) -> Result<Roi> {
        let name = path.display().to_string();
        if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::Io { source_name: name.clone(), reason: e.to_string() })?;
            Self::parse_polygon(&text, &name)
        } else {
            let img = image::open(path)
                .map_err(|e| Error::input_file(&name, format!("not a readable mask image: {e}")))?
                .to_luma8();
            let (w, h) = (img.width() as usize, img.height() as usize);
            Ok(Roi::Mask { width: w, height: h, inside: img.into_raw().into_iter().map(|v| v > 0).collect() })
        }
    }

    /// Parses polygon JSON text.
    pub fn parse_polygon(text: &str, name: &str) -> Result<Roi> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum PolygonJson {
            Bare(Vec<[f64; 2]>),
            Wrapped { polygon: Vec<[f64; 2]> },
        }
        let pts = match serde_json::from_str::<PolygonJson>(text) {
            Ok(PolygonJson::Bare(p)) | Ok(PolygonJson::Wrapped { polygon: p }) => p,
            Err(e) => return Err(Error::input_file(name, format!("not a polygon ([[x, y], ...] in pixels): {e}"))),
        };
        if pts.len() < 3 || pts.iter().flatten().any(|v| !v.is_finite()) {
            return Err(Error::input_file(name, "a polygon needs at least 3 finite vertices"));
        }
        Ok(Roi::Polygon(pts))
    }
}

/// Largest polygon vertex coordinate accepted, px: far beyond any photo, and small enough that
/// clipping a polygon to the frame cannot overflow (a vertex at 1e308 px made its area NaN).
pub const MAX_VERTEX_PX: f64 = 1e9;
/// Smallest dot spacing, px, from which a region is found from the dots; below it the region
/// is the whole frame.
pub const MIN_SPACING_PX: f64 = 2.0;

/// How the region was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionMethod {
    /// The caller's polygon, clipped to the frame.
    Polygon,
    /// The caller's mask image.
    Mask,
    /// From where the dots are.
    Dots,
    /// The whole frame (dots cover it, or too few dots to tell).
    WholeFrame,
}

/// The region the summary refers to.
#[derive(Debug, Clone)]
pub struct Region {
    /// How the region was found.
    pub method: RegionMethod,
    /// Area in px^2 (for an automatic region: weighted by how full its edge cells are).
    pub area_px: f64,
    /// Perimeter in px (for the Clark-Evans edge correction).
    pub perimeter_px: f64,
    inside: Inside,
    /// A polygon (px) left out of the region: the calibration marker's card; empty for none.
    excluded: Vec<[f64; 2]>,
}

#[derive(Debug, Clone)]
enum Inside {
    All,
    Polygon(Vec<[f64; 2]>),
    Mask { width: usize, inside: Vec<bool> },
    Cells { cell: f64, cols: usize, marked: Vec<bool> },
}

impl Region {
    /// Whether the point (x, y) lies in the region.
    pub fn contains(&self, x: f64, y: f64) -> bool {
        if !self.excluded.is_empty() && point_in_polygon(&self.excluded, x, y) {
            return false;
        }
        match &self.inside {
            Inside::All => true,
            Inside::Polygon(p) => point_in_polygon(p, x, y),
            Inside::Mask { width, inside } => {
                let (xi, yi) = (x.round().max(0.0) as usize, y.round().max(0.0) as usize);
                // Checked: a point far below the frame (y = 1e20) must not wrap onto a pixel.
                yi.checked_mul(*width)
                    .and_then(|i| i.checked_add(xi.min(width - 1)))
                    .and_then(|i| inside.get(i))
                    .is_some_and(|&v| v)
            }
            Inside::Cells { cell, cols, marked } => {
                let (cx, cy) =
                    (((x + 0.5) / cell).floor().max(0.0) as usize, ((y + 0.5) / cell).floor().max(0.0) as usize);
                // Row and column checked first: cy * cols overflowed for a point at y = 2e21.
                cx < *cols && cy < marked.len() / cols && marked[cy * cols + cx]
            }
        }
    }

    /// The whole frame of a `width x height` photo.
    pub fn whole_frame(width: usize, height: usize) -> Region {
        Region {
            method: RegionMethod::WholeFrame,
            area_px: (width * height) as f64,
            perimeter_px: 2.0 * (width + height) as f64,
            inside: Inside::All,
            excluded: Vec::new(),
        }
    }

    /// The caller's region, checked against the photo (`width x height` px): a polygon is
    /// clipped to the frame and must overlap it; a mask must have the photo's size.
    ///
    /// ```
    /// use smpscope::region::{Region, RegionMethod, Roi};
    /// let roi = Roi::parse_polygon("[[0, 0], [199.5, 0], [199.5, 99.5], [0, 99.5]]", "roi.json")?;
    /// let region = Region::from_roi(&roi, 400, 300)?;
    /// assert_eq!(region.method, RegionMethod::Polygon);
    /// assert!((region.area_px - 199.5 * 99.5).abs() < 1e-9);
    /// assert!(region.contains(50.0, 50.0) && !region.contains(300.0, 50.0));
    /// # Ok::<(), smpscope::Error>(())
    /// ```
    pub fn from_roi(roi: &Roi, width: usize, height: usize) -> Result<Region> {
        match roi {
            Roi::Polygon(p) => {
                if p.iter().flatten().any(|v| !v.is_finite() || v.abs() > MAX_VERTEX_PX) {
                    return Err(Error::parameter(
                        "roi",
                        format!("the polygon's vertices must be numbers within ±{MAX_VERTEX_PX:e} px"),
                    ));
                }
                let clipped = clip_to_frame(p, width as f64, height as f64);
                // At most the frame: the shoelace counts the area of a polygon that winds round
                // twice (its outline given twice) twice; clipped, it is still all in the frame.
                let area = shoelace(&clipped).abs().min((width * height) as f64);
                if area.is_nan() || area < 1.0 {
                    return Err(Error::parameter("roi", "the polygon does not overlap the photo"));
                }
                let perimeter = clipped
                    .iter()
                    .zip(clipped.iter().cycle().skip(1))
                    .map(|(a, b)| (a[0] - b[0]).hypot(a[1] - b[1]))
                    .sum();
                Ok(Region {
                    method: RegionMethod::Polygon,
                    area_px: area,
                    perimeter_px: perimeter,
                    inside: Inside::Polygon(p.clone()),
                    excluded: Vec::new(),
                })
            }
            Roi::Mask { width: mw, height: mh, inside } => {
                if (*mw, *mh) != (width, height) {
                    return Err(Error::parameter(
                        "roi",
                        format!("the mask is {mw}x{mh} px but the photo is {width}x{height} px"),
                    ));
                }
                let area = inside.iter().filter(|&&v| v).count();
                if area == 0 {
                    return Err(Error::parameter("roi", "the mask is empty"));
                }
                let mut edges = 0usize;
                for y in 0..height {
                    for x in 0..width {
                        let v = inside[y * width + x];
                        if x + 1 < width && v != inside[y * width + x + 1] {
                            edges += 1;
                        }
                        if y + 1 < height && v != inside[(y + 1) * width + x] {
                            edges += 1;
                        }
                    }
                }
                Ok(Region {
                    method: RegionMethod::Mask,
                    area_px: area as f64,
                    perimeter_px: edges as f64,
                    inside: Inside::Mask { width, inside: inside.clone() },
                    excluded: Vec::new(),
                })
            }
        }
    }

    /// The region where the dots are: cells about two dot spacings wide holding a dot, with
    /// holes filled. Edge cells count in proportion to how many dots they hold compared with
    /// full cells, so that a ragged edge does not inflate the area. Returns the whole frame
    /// when the dots fill it or are too few to tell.
    ///
    /// ```
    /// use smpscope::region::{Region, RegionMethod};
    /// // Dots 10 px apart over the left half of a 400 x 400 px frame.
    /// let dot = |i: usize| (5.0 + 10.0 * (i % 20) as f64, 5.0 + 10.0 * (i / 20) as f64);
    /// let dots: Vec<(f64, f64)> = (0..800).map(dot).collect();
    /// let region = Region::from_dots(&dots, 10.0, 400, 400);
    /// assert_eq!(region.method, RegionMethod::Dots);
    /// assert!((region.area_px / (200.0 * 400.0) - 1.0).abs() < 0.05);
    /// ```
    pub fn from_dots(points: &[(f64, f64)], spacing_px: f64, width: usize, height: usize) -> Region {
        // Dots closer than MIN_SPACING_PX are not resolved, and cells of a fraction of a pixel
        // would take more memory than the photo (a spacing of 0.001 px asked for 10^12 cells).
        if points.len() < 12 || !(spacing_px.is_finite() && spacing_px >= MIN_SPACING_PX) {
            return Region::whole_frame(width, height);
        }
        let cell = 2.0 * spacing_px;
        let (cols, rows) = ((width as f64 / cell).ceil() as usize, (height as f64 / cell).ceil() as usize);
        if cols < 3 || rows < 3 {
            return Region::whole_frame(width, height);
        }
        let mut count = vec![0usize; cols * rows];
        for &(x, y) in points {
            let (cx, cy) = (
                (((x + 0.5) / cell).floor().max(0.0) as usize).min(cols - 1),
                (((y + 0.5) / cell).floor().max(0.0) as usize).min(rows - 1),
            );
            count[cy * cols + cx] += 1;
        }
        let mut marked: Vec<bool> = count.iter().map(|&n| n > 0).collect();
        fill_holes(&mut marked, cols, rows);
        let cell_area = |i: usize| {
            let (cx, cy) = (i % cols, i / cols);
            let w = (width as f64).min((cx + 1) as f64 * cell) - cx as f64 * cell;
            let h = (height as f64).min((cy + 1) as f64 * cell) - cy as f64 * cell;
            w * h
        };
        let is_edge = |i: usize| {
            let (cx, cy) = ((i % cols) as isize, (i / cols) as isize);
            (-1..=1).any(|dy| {
                (-1..=1).any(|dx| {
                    let (x, y) = (cx + dx, cy + dy);
                    x >= 0
                        && y >= 0
                        && (x as usize) < cols
                        && (y as usize) < rows
                        && !marked[y as usize * cols + x as usize]
                })
            })
        };
        let interior: Vec<usize> = (0..marked.len()).filter(|&i| marked[i] && !is_edge(i)).collect();
        let interior_area: f64 = interior.iter().map(|&i| cell_area(i)).sum();
        let interior_count: usize = interior.iter().map(|&i| count[i]).sum();
        let total_cells = marked.len();
        if marked.iter().filter(|&&m| m).count() * 10 >= total_cells * 9 || interior_count == 0 {
            return Region::whole_frame(width, height);
        }
        let per_px = interior_count as f64 / interior_area;
        let edge_area: f64 = (0..marked.len())
            .filter(|&i| marked[i] && is_edge(i))
            .map(|i| (count[i] as f64 / per_px).min(cell_area(i)))
            .sum();
        let mut perimeter = 0.0;
        for cy in 0..rows {
            for cx in 0..cols {
                if !marked[cy * cols + cx] {
                    continue;
                }
                let nb = [
                    (cx as isize - 1, cy as isize),
                    (cx as isize + 1, cy as isize),
                    (cx as isize, cy as isize - 1),
                    (cx as isize, cy as isize + 1),
                ];
                for (x, y) in nb {
                    let outside_frame = x < 0 || y < 0 || x as usize >= cols || y as usize >= rows;
                    if outside_frame || !marked[y as usize * cols + x as usize] {
                        perimeter += cell;
                    }
                }
            }
        }
        Region {
            method: RegionMethod::Dots,
            area_px: interior_area + edge_area,
            perimeter_px: perimeter,
            inside: Inside::Cells { cell, cols, marked },
            excluded: Vec::new(),
        }
    }
}

impl Region {
    /// The region without the polygon `excluded` (px; e.g. the calibration marker's card): its
    /// area less their overlap, counted on a grid of at most about 250,000 points over the
    /// polygon (exact to a fraction of a percent of the polygon's area), and its perimeter plus
    /// the polygon's share inside. A non-finite polygon leaves the region as it is.
    pub fn excluding(mut self, excluded: &[[f64; 2]], width: usize, height: usize) -> Region {
        if excluded.len() < 3 || excluded.iter().flatten().any(|v| !v.is_finite() || v.abs() > MAX_VERTEX_PX) {
            return self;
        }
        let clipped = clip_to_frame(excluded, width as f64, height as f64);
        let (x0, x1) = clipped.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |a, p| (a.0.min(p[0]), a.1.max(p[0])));
        let (y0, y1) = clipped.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |a, p| (a.0.min(p[1]), a.1.max(p[1])));
        if !(x1 > x0 && y1 > y0) {
            return self;
        }
        let step = ((x1 - x0) * (y1 - y0) / 250_000.0).sqrt().max(0.25);
        let (nx, ny) = (((x1 - x0) / step).ceil() as usize, ((y1 - y0) / step).ceil() as usize);
        let mut hits = 0usize;
        for j in 0..ny {
            for i in 0..nx {
                let (x, y) = (x0 + (i as f64 + 0.5) * step, y0 + (j as f64 + 0.5) * step);
                hits += usize::from(point_in_polygon(excluded, x, y) && self.contains(x, y));
            }
        }
        let overlap = hits as f64 * step * step;
        let area = shoelace(&clipped).abs().max(1.0);
        let perimeter: f64 =
            clipped.iter().zip(clipped.iter().cycle().skip(1)).map(|(a, b)| (a[0] - b[0]).hypot(a[1] - b[1])).sum();
        self.area_px = (self.area_px - overlap).max(0.0);
        self.perimeter_px += perimeter * (overlap / area).min(1.0);
        self.excluded = excluded.to_vec();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polygon_area_is_clipped_to_the_frame() {
        let roi = Roi::parse_polygon("[[-10,-10],[49.5,-10],[49.5,200],[-10,200]]", "r.json").unwrap();
        let r = Region::from_roi(&roi, 100, 80).unwrap();
        assert!((r.area_px - 50.0 * 80.0).abs() < 1e-6, "{}", r.area_px);
        assert!(r.contains(10.0, 10.0) && !r.contains(60.0, 10.0));
        assert!(Roi::parse_polygon("{\"polygon\": [[0,0],[1,1]]}", "r.json").is_err());
        assert!(Roi::parse_polygon("nonsense", "r.json").unwrap_err().to_string().contains("r.json"));
    }

    #[test]
    fn huge_or_non_finite_vertices_are_refused_not_measured_as_nan() {
        // Found by the roi fuzzer: clipping [1e308, ...] to the frame made the area NaN, and
        // NaN passed the "does not overlap" check.
        let roi = Roi::parse_polygon("[[1e308, 0], [-1e308, 1e308], [0, -1e308]]", "r.json").unwrap();
        let e = Region::from_roi(&roi, 800, 600).unwrap_err().to_string();
        assert!(e.contains("within"), "{e}");
        for bad in [f64::NAN, f64::INFINITY, -1e10] {
            let roi = Roi::Polygon(vec![[0.0, 0.0], [100.0, 0.0], [bad, 100.0]]);
            assert!(Region::from_roi(&roi, 800, 600).is_err(), "{bad}");
        }
        // Far but allowed: a triangle around the whole frame is the frame.
        let roi = Roi::Polygon(vec![[-1e9, -1e9], [1e9, -1e9], [0.0, 1e9]]);
        let r = Region::from_roi(&roi, 800, 600).unwrap();
        assert!((r.area_px - 800.0 * 600.0).abs() < 1e-3, "{}", r.area_px);
    }

    #[test]
    fn a_polygon_given_twice_round_is_no_larger_than_the_frame() {
        // Found by the roi fuzzer: a ring of vertices listed twice, with some far outside,
        // measured 594,865 px^2 in an 800 x 600 frame.
        let mut twice = vec![[-100.0, -100.0], [900.0, -100.0], [900.0, 700.0], [-100.0, 700.0]];
        twice.extend_from_within(..);
        let r = Region::from_roi(&Roi::Polygon(twice), 800, 600).unwrap();
        assert!(r.area_px <= 800.0 * 600.0, "{}", r.area_px);
    }

    #[test]
    fn dots_closer_than_two_px_give_the_whole_frame_without_a_huge_grid() {
        // Found by the roi fuzzer: a spacing of 0.001 px asked for 10^12 cells (960 GB).
        let pts: Vec<(f64, f64)> =
            (0..30).map(|i| (5.0 + 0.001 * (i % 20) as f64, 5.0 + 0.001 * (i / 20) as f64)).collect();
        for spacing in [0.001, 1e-300, 1.99] {
            assert_eq!(Region::from_dots(&pts, spacing, 800, 600).method, RegionMethod::WholeFrame);
        }
    }

    #[test]
    fn points_far_outside_are_outside_every_kind_of_region() {
        // Found by the roi fuzzer: contains(25, 2.2e21) on a region of cells overflowed cy * cols.
        let pts: Vec<(f64, f64)> =
            (0..800).map(|i| (5.0 + 10.0 * (i % 20) as f64, 5.0 + 10.0 * (i / 20) as f64)).collect();
        let cells = Region::from_dots(&pts, 10.0, 400, 400);
        assert_eq!(cells.method, RegionMethod::Dots);
        let mask = Region::from_roi(&Roi::Mask { width: 20, height: 20, inside: vec![true; 400] }, 20, 20).unwrap();
        for r in [&cells, &mask] {
            for (x, y) in [(25.0, 2.2e21), (2.2e21, 25.0), (f64::MAX, f64::MAX), (25.0, f64::INFINITY)] {
                assert!(!r.contains(x, y), "{:?} ({x}, {y})", r.method);
            }
            assert!(r.contains(5.0, 5.0));
        }
    }

    #[test]
    fn dots_on_half_the_frame_give_half_the_area() {
        let mut pts = Vec::new();
        for y in 0..40 {
            for x in 0..20 {
                pts.push((x as f64 * 10.0 + 5.0, y as f64 * 10.0 + 5.0));
            }
        }
        let r = Region::from_dots(&pts, 10.0, 400, 400);
        assert_eq!(r.method, RegionMethod::Dots);
        assert!((r.area_px / 80_000.0 - 1.0).abs() < 0.05, "{}", r.area_px);
        let everywhere: Vec<_> =
            (0..1600).map(|i| ((i % 40) as f64 * 10.0 + 5.0, (i / 40) as f64 * 10.0 + 5.0)).collect();
        assert_eq!(Region::from_dots(&everywhere, 10.0, 400, 400).method, RegionMethod::WholeFrame);
    }
}
