//! The report's plots, drawn as SVG by plotters: the fade curve and the per-visit histograms.
//! Every number plotted comes from the analysis and track documents.

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use crate::ReportError;

/// One visit on the fade plot.
#[derive(Debug, Clone)]
pub struct FadePoint {
    /// Months since the first visit.
    pub months: f64,
    /// ink_retained of the visit relative to its baseline, share (1 = all the ink).
    pub ink_retained: f64,
    /// Whether the visit was a touch-up.
    pub touch_up: bool,
}

/// The fitted fade as the forecast uses it: 2^(-(t - baseline) / half_life) from 1 at the
/// baseline, and the forecast date of the threshold with its interval.
#[derive(Debug, Clone)]
pub struct FadeForecast {
    /// Months of the baseline the forecast runs from.
    pub baseline_months: f64,
    /// Fitted half-life, months.
    pub half_life_months: f64,
    /// Months since the first visit when the threshold is forecast to be reached.
    pub due_months: Option<f64>,
    /// 95 % interval of that, months since the first visit; the late end None when it may never
    /// be reached.
    pub due_interval_months: [Option<f64>; 2],
}

const WIDTH: u32 = 720;
const HEIGHT: u32 = 340;
const FONT: &str = "sans-serif";
const INK_COLOUR: RGBColor = RGBColor(31, 78, 140);
const FORECAST_COLOUR: RGBColor = RGBColor(200, 90, 20);
const TOUCH_UP_COLOUR: RGBColor = RGBColor(40, 140, 60);

/// Turns a plotters error into the report's, naming the plot.
fn failed<E: std::fmt::Display>(plot: &'static str) -> impl Fn(E) -> ReportError {
    move |e| ReportError::Plot { plot, reason: e.to_string() }
}

/// The fade plot: ink retained per visit over months, the touch-ups as vertical lines, the
/// threshold as a horizontal line and, when fitted, the forecast curve with the date the
/// threshold is reached and its interval as a shaded band. An SVG document.
pub fn fade_svg(points: &[FadePoint], threshold: f64, forecast: Option<&FadeForecast>) -> Result<String, ReportError> {
    let err = failed("fade");
    let (x_max, y_max) = fade_extent(points, forecast);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(&err)?;
        let mut chart = fade_chart(&root, x_max, y_max)?;
        if let Some(f) = forecast {
            draw_forecast(&mut chart, f, x_max, y_max)?;
        }
        draw_threshold(&mut chart, threshold, x_max)?;
        draw_touch_ups(&mut chart, points, y_max)?;
        draw_visits(&mut chart, points)?;
        draw_fade_legend(&mut chart)?;
        root.present().map_err(&err)?;
    }
    Ok(svg)
}

/// The fade plot's axes: months (x) and ink retained as a share (y).
type FadeChart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The ends of the fade plot's axes, (months, share): past the last visit and the forecast's
/// late end (at most 4 times the last visit's months), and above every visit's ink and 1.
fn fade_extent(points: &[FadePoint], forecast: Option<&FadeForecast>) -> (f64, f64) {
    let last_visit = points.iter().map(|p| p.months).fold(0.0, f64::max);
    let forecast_end = forecast
        .and_then(|f| f.due_interval_months[1].or(f.due_months))
        .map_or(0.0, |m| m.min(last_visit.max(1.0) * 4.0));
    let x_max = (last_visit.max(forecast_end) * 1.08).max(1.0);
    let y_max = points.iter().map(|p| p.ink_retained).fold(1.0, f64::max) * 1.1;
    (x_max, y_max)
}

/// The fade plot's frame on `root`: axes from 0 to `x_max` months and 0 to `y_max` ink retained
/// (labelled in %), with their descriptions and a light grid.
fn fade_chart<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, Shift>,
    x_max: f64,
    y_max: f64,
) -> Result<FadeChart<'a, 'b>, ReportError> {
    let err = failed("fade");
    let mut chart = ChartBuilder::on(root)
        .margin(14)
        .x_label_area_size(42)
        .y_label_area_size(56)
        .build_cartesian_2d(0.0..x_max, 0.0..y_max)
        .map_err(&err)?;
    chart
        .configure_mesh()
        .x_desc("months since the first visit")
        .y_desc("ink retained")
        .y_label_formatter(&|y| format!("{:.0} %", 100.0 * y))
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 14))
        .light_line_style(RGBColor(238, 238, 238))
        .draw()
        .map_err(&err)?;
    Ok(chart)
}

/// The forecast: the interval of the due date (months) as a shaded band, the fitted fade from
/// the baseline, and the due date as a vertical line if it falls within `x_max`.
fn draw_forecast(chart: &mut FadeChart, f: &FadeForecast, x_max: f64, y_max: f64) -> Result<(), ReportError> {
    let err = failed("fade");
    if let (Some(early), late) = (f.due_interval_months[0], f.due_interval_months[1]) {
        let band = [(early.min(x_max), 0.0), (late.unwrap_or(x_max).min(x_max), y_max)];
        chart
            .draw_series(std::iter::once(Rectangle::new(band, FORECAST_COLOUR.mix(0.12).filled())))
            .map_err(&err)?
            .label("forecast date, 95 % interval")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], FORECAST_COLOUR.mix(0.3).filled()));
    }
    let curve = (0..=200).map(|i| {
        let t = f.baseline_months + (x_max - f.baseline_months) * f64::from(i) / 200.0;
        (t, (-(t - f.baseline_months) / f.half_life_months).exp2())
    });
    chart
        .draw_series(LineSeries::new(curve, FORECAST_COLOUR.stroke_width(2)))
        .map_err(&err)?
        .label("fade at the fitted half-life, from the baseline")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 14, y)], FORECAST_COLOUR.stroke_width(2)));
    if let Some(due) = f.due_months.filter(|&d| d <= x_max) {
        chart
            .draw_series(std::iter::once(PathElement::new([(due, 0.0), (due, y_max)], FORECAST_COLOUR)))
            .map_err(&err)?;
    }
    Ok(())
}

/// The touch-up threshold (share of ink) as a horizontal line across the plot.
fn draw_threshold(chart: &mut FadeChart, threshold: f64, x_max: f64) -> Result<(), ReportError> {
    chart
        .draw_series(std::iter::once(PathElement::new([(0.0, threshold), (x_max, threshold)], RED.stroke_width(1))))
        .map_err(failed("fade"))?
        .label(format!("touch-up threshold ({:.0} %)", 100.0 * threshold))
        .legend(|(x, y)| PathElement::new([(x, y), (x + 14, y)], RED));
    Ok(())
}

/// Each touch-up visit's months as a vertical line (one per run of equal months); nothing if none.
fn draw_touch_ups(chart: &mut FadeChart, points: &[FadePoint], y_max: f64) -> Result<(), ReportError> {
    let mut touch_ups: Vec<f64> = points.iter().filter(|p| p.touch_up).map(|p| p.months).collect();
    touch_ups.dedup();
    if !touch_ups.is_empty() {
        chart
            .draw_series(
                touch_ups.iter().map(|&m| PathElement::new([(m, 0.0), (m, y_max)], TOUCH_UP_COLOUR.stroke_width(2))),
            )
            .map_err(failed("fade"))?
            .label("touch-up")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 14, y)], TOUCH_UP_COLOUR.stroke_width(2)));
    }
    Ok(())
}

/// The visits' ink retained over months: a faint line through them and a mark at each.
fn draw_visits(chart: &mut FadeChart, points: &[FadePoint]) -> Result<(), ReportError> {
    let err = failed("fade");
    chart
        .draw_series(LineSeries::new(points.iter().map(|p| (p.months, p.ink_retained)), INK_COLOUR.mix(0.5)))
        .map_err(&err)?;
    chart
        .draw_series(points.iter().map(|p| Circle::new((p.months, p.ink_retained), 5, INK_COLOUR.filled())))
        .map_err(&err)?
        .label("ink retained at a visit (share of its baseline's)")
        .legend(|(x, y)| Circle::new((x + 7, y), 4, INK_COLOUR.filled()));
    Ok(())
}

/// The legend of every labelled series, at the lower left.
fn draw_fade_legend<'a, 'b: 'a>(chart: &mut FadeChart<'a, 'b>) -> Result<(), ReportError> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerLeft)
        .label_font((FONT, 12))
        .border_style(RGBColor(180, 180, 180))
        .background_style(WHITE.mix(0.85))
        .draw()
        .map_err(failed("fade"))
}

/// A histogram of `values` over `range` in `bins` equal bins (values outside are counted in the
/// end bins), labelled with `axis` (the measure and its unit). An SVG document.
pub fn histogram_svg(values: &[f64], range: (f64, f64), bins: usize, axis: &str) -> Result<String, ReportError> {
    let err = failed("histogram");
    let (lo, hi) = range;
    let width = (hi - lo) / bins as f64;
    let mut counts = vec![0u32; bins];
    for v in values.iter().filter(|v| v.is_finite()) {
        let i = ((v - lo) / width).floor().clamp(0.0, (bins - 1) as f64) as usize;
        counts[i] += 1;
    }
    let y_max = f64::from(counts.iter().copied().max().unwrap_or(0).max(1)) * 1.1;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (340, 210)).into_drawing_area();
        root.fill(&WHITE).map_err(&err)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(8)
            .x_label_area_size(36)
            .y_label_area_size(40)
            .build_cartesian_2d(lo..hi, 0.0..y_max)
            .map_err(&err)?;
        chart
            .configure_mesh()
            .x_desc(axis)
            .y_desc("dots")
            .x_labels(5)
            .y_labels(4)
            .y_label_formatter(&|y| format!("{y:.0}"))
            .label_style((FONT, 11))
            .axis_desc_style((FONT, 12))
            .disable_x_mesh()
            .light_line_style(RGBColor(238, 238, 238))
            .draw()
            .map_err(&err)?;
        chart
            .draw_series(counts.iter().enumerate().map(|(i, &c)| {
                let x0 = lo + width * i as f64;
                Rectangle::new([(x0, 0.0), (x0 + width, f64::from(c))], INK_COLOUR.mix(0.7).filled())
            }))
            .map_err(&err)?;
        root.present().map_err(&err)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fade_plot_is_an_svg_with_every_visit() {
        let points = [
            FadePoint { months: 0.0, ink_retained: 1.0, touch_up: false },
            FadePoint { months: 6.0, ink_retained: 0.8, touch_up: false },
            FadePoint { months: 12.0, ink_retained: 1.1, touch_up: true },
        ];
        let forecast = FadeForecast {
            baseline_months: 12.0,
            half_life_months: 20.0,
            due_months: Some(32.0),
            due_interval_months: [Some(28.0), None],
        };
        let svg = fade_svg(&points, 0.5, Some(&forecast)).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
        assert_eq!(svg.matches("<circle").count(), 3 + 1, "three visits and the legend's mark");
        assert!(svg.contains("touch-up threshold (50 %)"));
    }

    #[test]
    fn a_histogram_counts_every_value() {
        let svg = histogram_svg(&[1.0, 2.0, 2.5, 9.0, 100.0], (0.0, 10.0), 5, "diameter, um").unwrap();
        assert!(svg.contains("diameter, um"));
        assert_eq!(svg.matches("<rect").count(), 1 + 5, "background and 5 bins");
    }
}
