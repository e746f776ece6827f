//! Writes the calibration marker's files from its one layout (`smpscope::marker::layout`), so
//! that they cannot drift apart:
//!
//! ```text
//! cargo run --release -p smpscope-synth --example marker_files -- fixtures/calibration
//! ```
//!
//! - `marker.svg`: one card, 16 x 16 mm (print at 100 %);
//! - `marker-sheet.svg` and `marker-sheet.pdf`: an A4 page of 20 cards with crop marks, a
//!   100 mm check ruler and the printing instructions;
//! - `marker.png`: one card rasterised at [`PNG_PX_PER_MM`] px/mm (each pixel's area averaged);
//! - `marker.json`: the card's size, the png's px_per_mm and every element's geometry in mm.

use std::fmt::Write as _;
use std::path::PathBuf;

use smpscope::colour::{linear_to_srgb, srgb_to_linear};
use smpscope::marker::layout::{self, CARD_MM, FRAME_IN, FRAME_OUT, SLANT_CENTRE, SLANT_DEG, SLANT_SIDE};

/// Scale of marker.png, px per mm.
const PNG_PX_PER_MM: f64 = 50.0;
/// A4, mm.
const PAGE: (f64, f64) = (210.0, 297.0);
/// Cards on the sheet: columns, rows, pitch (mm) and the first card's top-left corner (mm).
const SHEET: (usize, usize, f64, [f64; 2]) = (4, 5, 36.0, [37.0, 50.0]);

/// One thing drawn: filled polygons (even-odd), a stroked line, or a line of text.
enum Shape {
    Fill { polygons: Vec<Vec<[f64; 2]>>, rgb: [u8; 3] },
    Line { a: [f64; 2], b: [f64; 2], width: f64 },
    Text { at: [f64; 2], size: f64, text: String },
}

fn card_at(origin: [f64; 2]) -> Vec<Shape> {
    let shift = |p: &[f64; 2]| [p[0] + origin[0], p[1] + origin[1]];
    layout::elements()
        .into_iter()
        .map(|e| Shape::Fill {
            polygons: e.polygons.iter().map(|p| p.iter().map(shift).collect()).collect(),
            rgb: e.srgb,
        })
        .collect()
}

fn sheet() -> Vec<Shape> {
    let (cols, rows, pitch, first) = SHEET;
    let mut out = vec![
        Shape::Text { at: [20.0, 18.0], size: 5.0, text: "smpscope calibration marker (16 x 16 mm)".into() },
        Shape::Text {
            at: [20.0, 26.0],
            size: 3.2,
            text: "Print at 100 % (actual size, no 'fit to page'), black and white, on matte white paper; cut along the crop marks.".into(),
        },
        Shape::Text {
            at: [20.0, 31.0],
            size: 3.2,
            text: "Check: the black frame's outer side must measure 14.4 mm, each card's ruler 10 mm, the ruler below 100 mm.".into(),
        },
        Shape::Text { at: [20.0, 36.0], size: 3.2, text: "Reprint when any is off by more than 0.5 %. See docs/calibration.md.".into() },
    ];
    for r in 0..rows {
        for c in 0..cols {
            let o = [first[0] + c as f64 * pitch, first[1] + r as f64 * pitch];
            out.extend(card_at(o));
            // Crop marks 1-4 mm outside each corner, so nothing but the card is printed on it.
            for (cx, cy, sx, sy) in [
                (0.0, 0.0, -1.0, -1.0),
                (CARD_MM, 0.0, 1.0, -1.0),
                (CARD_MM, CARD_MM, 1.0, 1.0),
                (0.0, CARD_MM, -1.0, 1.0),
            ] {
                let (x, y) = (o[0] + cx, o[1] + cy);
                out.push(Shape::Line { a: [x + sx, y], b: [x + 4.0 * sx, y], width: 0.1 });
                out.push(Shape::Line { a: [x, y + sy], b: [x, y + 4.0 * sy], width: 0.1 });
            }
        }
    }
    let (x0, y) = (55.0, 240.0);
    out.push(Shape::Line { a: [x0, y], b: [x0 + 100.0, y], width: 0.15 });
    for k in 0..=100 {
        let len = if k % 10 == 0 {
            4.0
        } else if k % 5 == 0 {
            2.5
        } else {
            1.5
        };
        out.push(Shape::Line { a: [x0 + k as f64, y], b: [x0 + k as f64, y - len], width: 0.1 });
    }
    out.push(Shape::Text { at: [x0, y + 6.0], size: 3.2, text: "0".into() });
    out.push(Shape::Text { at: [x0 + 96.0, y + 6.0], size: 3.2, text: "100 mm".into() });
    out
}

fn svg(shapes: &[Shape], w: f64, h: f64) -> String {
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}mm\" height=\"{h}mm\" viewBox=\"0 0 {w} {h}\">\n<rect width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/>\n"
    );
    for shape in shapes {
        match shape {
            Shape::Fill { polygons, rgb } => {
                let mut d = String::new();
                for p in polygons {
                    for (i, q) in p.iter().enumerate() {
                        let _ = write!(d, "{}{:.4} {:.4} ", if i == 0 { "M" } else { "L" }, q[0], q[1]);
                    }
                    d.push_str("Z ");
                }
                let _ = writeln!(
                    s,
                    "<path d=\"{}\" fill=\"rgb({},{},{})\" fill-rule=\"evenodd\"/>",
                    d.trim_end(),
                    rgb[0],
                    rgb[1],
                    rgb[2]
                );
            }
            Shape::Line { a, b, width } => {
                let _ = writeln!(
                    s,
                    "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#000\" stroke-width=\"{width}\"/>",
                    a[0], a[1], b[0], b[1]
                );
            }
            Shape::Text { at, size, text } => {
                let _ = writeln!(
                    s,
                    "<text x=\"{}\" y=\"{}\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"{size}\">{text}</text>",
                    at[0], at[1]
                );
            }
        }
    }
    s.push_str("</svg>\n");
    s
}

/// A one-page PDF of the shapes (mm, y down), written directly: filled paths, lines and
/// Helvetica text are all the sheet needs.
fn pdf(shapes: &[Shape], w: f64, h: f64) -> Vec<u8> {
    let pt = 72.0 / 25.4;
    let mut c = format!("{pt:.6} 0 0 {:.6} 0 {:.4} cm\n", -pt, h * pt);
    for shape in shapes {
        match shape {
            Shape::Fill { polygons, rgb } => {
                let _ = writeln!(
                    c,
                    "{:.4} {:.4} {:.4} rg",
                    rgb[0] as f64 / 255.0,
                    rgb[1] as f64 / 255.0,
                    rgb[2] as f64 / 255.0
                );
                for p in polygons {
                    for (i, q) in p.iter().enumerate() {
                        let _ = writeln!(c, "{:.4} {:.4} {}", q[0], q[1], if i == 0 { "m" } else { "l" });
                    }
                    c.push_str("h\n");
                }
                c.push_str("f*\n");
            }
            Shape::Line { a, b, width } => {
                let _ = writeln!(c, "0 G {width} w {:.4} {:.4} m {:.4} {:.4} l S", a[0], a[1], b[0], b[1]);
            }
            Shape::Text { at, size, text } => {
                let esc = text.replace('\\', "\\\\").replace('(', "\\(").replace(')', "\\)");
                let _ = writeln!(c, "0 g BT /F1 {size} Tf 1 0 0 -1 {} {} Tm ({esc}) Tj ET", at[0], at[1]);
            }
        }
    }
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {:.4} {:.4}] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
            w * pt,
            h * pt
        ),
        format!("<< /Length {} >>\nstream\n{c}endstream", c.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n{o}\nendobj\n", i + 1).bytes());
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).bytes());
    for o in offsets {
        out.extend(format!("{o:010} 00000 n \n").bytes());
    }
    out.extend(format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).bytes());
    out
}

/// The card at `PNG_PX_PER_MM`, each pixel the mean of 8 x 8 points in linear light.
fn png() -> image::RgbImage {
    let els = layout::elements();
    let n = (CARD_MM * PNG_PX_PER_MM).round() as u32;
    image::RgbImage::from_fn(n, n, |x, y| {
        let mut sum = [0.0; 3];
        for k in 0..64 {
            let u = (x as f64 + ((k % 8) as f64 + 0.5) / 8.0) / PNG_PX_PER_MM;
            let v = (y as f64 + ((k / 8) as f64 + 0.5) / 8.0) / PNG_PX_PER_MM;
            let srgb = els.iter().rev().find(|e| layout::inside(&e.polygons, u, v)).map_or([255; 3], |e| e.srgb);
            for c in 0..3 {
                sum[c] += srgb_to_linear(srgb[c] as f64 / 255.0) / 64.0;
            }
        }
        image::Rgb(sum.map(|v| (linear_to_srgb(v) * 255.0).round() as u8))
    })
}

fn json() -> serde_json::Value {
    let n = (CARD_MM * PNG_PX_PER_MM).round();
    serde_json::json!({
        "schema": "smpscope.marker/1",
        "name": "smpscope calibration marker",
        "coordinates": "mm on the card: origin at its top-left corner, x to the right, y down; polygons filled by the even-odd rule, later elements painted over earlier ones",
        "card_mm": [CARD_MM, CARD_MM],
        "paper": {"srgb": [255, 255, 255], "reflectance": [1.0, 1.0, 1.0]},
        "black_reflectance": layout::BLACK_REFLECTANCE,
        "frame": {"outer_mm": [FRAME_OUT, CARD_MM - FRAME_OUT], "inner_mm": [FRAME_IN, CARD_MM - FRAME_IN], "outer_side_mm": CARD_MM - 2.0 * FRAME_OUT},
        "slanted_edge": {"centre_mm": SLANT_CENTRE, "side_mm": SLANT_SIDE, "angle_deg": SLANT_DEG, "corners_mm": layout::slanted_square()},
        "ruler": {"from_mm": [3.0, 8.6], "length_mm": 10.0, "tick_mm": 1.0},
        "png": {"file": "marker.png", "width_px": n, "height_px": n, "px_per_mm": PNG_PX_PER_MM},
        "files": {"svg": "marker.svg", "sheet_svg": "marker-sheet.svg", "sheet_pdf": "marker-sheet.pdf"},
        "elements": layout::elements(),
    })
}

fn main() -> std::io::Result<()> {
    let dir: PathBuf = std::env::args().nth(1).unwrap_or_else(|| "fixtures/calibration".into()).into();
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("marker.svg"), svg(&card_at([0.0, 0.0]), CARD_MM, CARD_MM))?;
    std::fs::write(dir.join("marker-sheet.svg"), svg(&sheet(), PAGE.0, PAGE.1))?;
    std::fs::write(dir.join("marker-sheet.pdf"), pdf(&sheet(), PAGE.0, PAGE.1))?;
    png().save(dir.join("marker.png")).map_err(std::io::Error::other)?;
    std::fs::write(dir.join("marker.json"), serde_json::to_string_pretty(&json())? + "\n")?;
    println!("wrote marker.svg, marker-sheet.svg, marker-sheet.pdf, marker.png, marker.json into {}", dir.display());
    Ok(())
}
