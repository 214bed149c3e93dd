//! Charts drawn on the server as SVG with `plotters` (its SVG backend, no fonts loaded: the
//! browser renders the text), so they read the same with hydration off. Only layout is
//! decided here: sizes, colours, which series, where deployment markers go.
//!
//! Times are Unix seconds on the x axis, labelled in UTC.

use domain::stats::{StatsBucket, StatsEvent, StatsView};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// One line of a chart.
pub struct Line {
    pub name: String,
    pub color: RGBColor,
    /// (time, value); a `None` value breaks the line (no requests, no latency).
    pub points: Vec<(i64, Option<f64>)>,
}

const BLUE: RGBColor = RGBColor(0x1f, 0x6f, 0xeb);
const AMBER: RGBColor = RGBColor(0xd9, 0x8c, 0x00);
const RED_: RGBColor = RGBColor(0xcf, 0x22, 0x2e);
const GREEN_: RGBColor = RGBColor(0x1a, 0x7f, 0x37);
const PURPLE: RGBColor = RGBColor(0x82, 0x50, 0xdf);
const GREY: RGBColor = RGBColor(0x57, 0x60, 0x6a);
const TEAL: RGBColor = RGBColor(0x0a, 0x7e, 0x8c);
const PINK: RGBColor = RGBColor(0xbf, 0x39, 0x89);

/// One colour per version line, most requests first (purple is kept for the markers).
const VERSION_COLORS: [RGBColor; domain::stats::MAX_VERSION_LINES] = [BLUE, GREEN_, AMBER, TEAL, PINK, GREY];

fn time_label(unix: i64, span: i64) -> String {
    let Some(time) = chrono::DateTime::from_timestamp(unix, 0) else { return String::new() };
    if span > 86_400 {
        time.format("%m-%d %H:%M").to_string()
    } else {
        time.format("%H:%M").to_string()
    }
}

/// Round times for the axis: every 10 minutes within an hour or two, every 4 hours within a
/// day or two, else every day (UTC).
fn ticks(from: i64, to: i64) -> Vec<i64> {
    let step = match to - from {
        s if s <= 2 * 3_600 => 600,
        s if s <= 2 * 86_400 => 4 * 3_600,
        _ => 86_400,
    };
    let first = from - from.rem_euclid(step) + step;
    (0..).map(|i| first + i * step).take_while(|t| *t < to).collect()
}

/// A line chart of `lines` from `from` to `to`, with a labelled vertical line per marker.
pub fn line_chart(
    y_label: &str,
    (from, to): (i64, i64),
    lines: &[Line],
    markers: &[(i64, String)],
    (width, height): (u32, u32),
) -> String {
    let mut svg = String::new();
    let drawn = draw_lines(&mut svg, y_label, (from, to), lines, markers, (width, height));
    if let Err(error) = drawn {
        tracing::warn!(%error, "drawing a chart failed");
        return String::new();
    }
    svg
}

fn draw_lines(
    svg: &mut String,
    y_label: &str,
    (from, to): (i64, i64),
    lines: &[Line],
    markers: &[(i64, String)],
    size: (u32, u32),
) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::with_string(svg, size).into_drawing_area();
    root.fill(&WHITE)?;
    let top = lines.iter().flat_map(|l| l.points.iter().filter_map(|p| p.1)).fold(0.0f64, f64::max);
    let y_max = if top <= 0.0 { 1.0 } else { top * 1.15 };
    let span = to - from;
    let mut chart = ChartBuilder::on(&root)
        .margin(8)
        .x_label_area_size(24)
        .y_label_area_size(52)
        .build_cartesian_2d((from..to).with_key_points(ticks(from, to)), 0f64..y_max)?;
    chart
        .configure_mesh()
        .x_labels(7)
        .y_labels(5)
        .x_label_formatter(&|x| time_label(*x, span))
        .y_label_formatter(&|y| if y_max >= 10.0 { format!("{y:.0}") } else { format!("{y:.2}") })
        .y_desc(y_label)
        .light_line_style(WHITE)
        .bold_line_style(GREY.mix(0.15))
        .axis_style(GREY.mix(0.6))
        .label_style(("sans-serif", 11).into_font().color(&GREY))
        .draw()?;
    // Labels of markers close together are staggered down so they do not overlap.
    let mut previous: Option<(i64, usize)> = None;
    for (at, label) in markers {
        if *at < from || *at > to {
            continue;
        }
        let row = match previous {
            Some((last, row)) if (*at - last) * 8 < span => (row + 1) % 4,
            _ => 0,
        };
        previous = Some((*at, row));
        chart.draw_series(std::iter::once(PathElement::new(vec![(*at, 0.0), (*at, y_max)], PURPLE.stroke_width(1))))?;
        // Near the right edge the label goes left of its line, so it is not cut off.
        let side = if (*at - from) * 5 > span * 4 { HPos::Right } else { HPos::Left };
        chart.draw_series(std::iter::once(Text::new(
            label.clone(),
            (*at, y_max * (0.98 - 0.07 * row as f64)),
            ("sans-serif", 11).into_font().color(&PURPLE).pos(Pos::new(side, VPos::Top)),
        )))?;
    }
    for line in lines {
        let color = line.color;
        // Contiguous runs of known values, each its own polyline.
        let mut runs: Vec<Vec<(i64, f64)>> = vec![Vec::new()];
        for (at, value) in &line.points {
            match value {
                Some(v) => runs.last_mut().expect("a run").push((*at, *v)),
                None if runs.last().is_some_and(|r| !r.is_empty()) => runs.push(Vec::new()),
                None => {}
            }
        }
        let mut first = true;
        for run in runs.into_iter().filter(|r| !r.is_empty()) {
            let series = if run.len() == 1 {
                // A single point: a short dash, so it is visible.
                let (at, v) = run[0];
                chart.draw_series(std::iter::once(Circle::new((at, v), 2, color.filled())))?
            } else {
                chart.draw_series(LineSeries::new(run, color.stroke_width(2)))?
            };
            if first {
                series
                    .label(line.name.as_str())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], color.stroke_width(2)));
                first = false;
            }
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(GREY.mix(0.3))
        .label_font(("sans-serif", 11).into_font().color(&GREY))
        .draw()?;
    root.present()?;
    Ok(())
}

/// The range a view covers: `(first bucket start, last bucket end)`.
pub fn span(view: &StatsView) -> (i64, i64) {
    let from = view.buckets.first().map(|b| b.start_unix).unwrap_or_default();
    let to = view.buckets.last().map(|b| b.start_unix + view.bucket_seconds).unwrap_or(from + 1);
    (from, to)
}

/// Release and switch markers (`v2 release`), off-lines as `off-line`; prefixed with the
/// environment when the chart shows several.
pub fn markers(events: &[StatsEvent], several_envs: bool) -> Vec<(i64, String)> {
    events
        .iter()
        .map(|e| {
            let what = match &e.version {
                Some(version) => format!("{version} {}", e.action),
                None => e.action.clone(),
            };
            let label = if several_envs { format!("{} {what}", e.env.stage()) } else { what };
            (e.time_unix, label)
        })
        .collect()
}

fn points(buckets: &[StatsBucket], value: impl Fn(&StatsBucket) -> Option<f64>) -> Vec<(i64, Option<f64>)> {
    buckets.iter().map(|b| (b.start_unix, value(b))).collect()
}

/// Requests, 4xx and 5xx per point.
pub fn requests_chart(view: &StatsView, size: (u32, u32)) -> String {
    let lines = [
        Line { name: "Requests".into(), color: BLUE, points: points(&view.buckets, |b| Some(b.requests as f64)) },
        Line { name: "4xx".into(), color: AMBER, points: points(&view.buckets, |b| Some(b.status_4xx as f64)) },
        Line { name: "5xx".into(), color: RED_, points: points(&view.buckets, |b| Some(b.status_5xx as f64)) },
    ];
    line_chart("requests", span(view), &lines, &markers(&view.events, view.env.is_none()), size)
}

/// p50, p95 and p99 latency per point (no line where there were no requests).
pub fn latency_chart(view: &StatsView, size: (u32, u32)) -> String {
    let lines = [
        Line { name: "p50".into(), color: GREEN_, points: points(&view.buckets, |b| b.p50_ms) },
        Line { name: "p95".into(), color: AMBER, points: points(&view.buckets, |b| b.p95_ms) },
        Line { name: "p99".into(), color: RED_, points: points(&view.buckets, |b| b.p99_ms) },
    ];
    line_chart("ms", span(view), &lines, &markers(&view.events, view.env.is_none()), size)
}

/// The share of 5xx per point, in percent.
pub fn error_rate_chart(view: &StatsView, size: (u32, u32)) -> String {
    let rate = |b: &StatsBucket| (b.requests > 0).then(|| 100.0 * b.status_5xx as f64 / b.requests as f64);
    let lines = [Line { name: "5xx %".into(), color: RED_, points: points(&view.buckets, rate) }];
    line_chart("% 5xx", span(view), &lines, &markers(&view.events, view.env.is_none()), size)
}

/// Requests per point, one line per version that answered (a canary beside its live
/// version); empty when fewer than two versions answered in the range.
pub fn versions_chart(view: &StatsView, size: (u32, u32)) -> String {
    version_lines(view, "requests", size, |p| Some(p.requests as f64))
}

/// p99 latency per point, one line per version (no line where a version had no requests);
/// empty when fewer than two versions answered.
pub fn version_latency_chart(view: &StatsView, size: (u32, u32)) -> String {
    version_lines(view, "ms (p99)", size, |p| p.p99_ms)
}

fn version_lines(
    view: &StatsView,
    y_label: &str,
    size: (u32, u32),
    value: impl Fn(&domain::stats::VersionPoint) -> Option<f64>,
) -> String {
    if view.versions.len() < 2 {
        return String::new();
    }
    let lines: Vec<Line> = view
        .versions
        .iter()
        .zip(VERSION_COLORS)
        .map(|(series, color)| Line {
            name: series.version.clone(),
            color,
            points: view.buckets.iter().zip(&series.points).map(|(b, p)| (b.start_unix, value(p))).collect(),
        })
        .collect();
    line_chart(y_label, span(view), &lines, &markers(&view.events, view.env.is_none()), size)
}

/// A small requests line without axes (Deployment Management).
pub fn sparkline(view: &StatsView, (width, height): (u32, u32)) -> String {
    let mut svg = String::new();
    let drawn = (|| -> Result<(), Box<dyn std::error::Error>> {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        let (from, to) = span(view);
        let top = view.buckets.iter().map(|b| b.requests).max().unwrap_or(0).max(1) as f64;
        let mut chart = ChartBuilder::on(&root).margin(2).build_cartesian_2d(from..to, 0f64..top * 1.1)?;
        chart.draw_series(LineSeries::new(
            view.buckets.iter().map(|b| (b.start_unix, b.requests as f64)),
            BLUE.stroke_width(1),
        ))?;
        root.present()?;
        Ok(())
    })();
    if let Err(error) = drawn {
        tracing::warn!(%error, "drawing a sparkline failed");
        return String::new();
    }
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::stats::{Counts, StatsRange};
    use domain::Environment;

    fn view() -> StatsView {
        let mut counts = Counts::default();
        counts.add(200, 3_000, 0, None);
        counts.add(503, 9_000, 0, None);
        let buckets: Vec<StatsBucket> = (0..60)
            .map(|i| {
                let start = 1_800_000_000 + i * 60;
                let c = if i % 10 == 0 { counts.clone() } else { Counts::default() };
                StatsBucket::new(String::new(), start, &c)
            })
            .collect();
        let events = vec![StatsEvent {
            time: String::new(),
            time_unix: 1_800_000_000 + 1_200,
            env: Environment::Test,
            action: "release".into(),
            version: Some("v7".into()),
        }];
        StatsView {
            range: StatsRange::Hour,
            env: Some(Environment::Test),
            api: Some(1),
            bucket_seconds: 60,
            events,
            versions: domain::stats::VersionSeries::all(
                [("1.0.0", 9), ("1.1.0", 1)]
                    .into_iter()
                    .map(|(v, n)| {
                        let mut c = Counts::default();
                        (0..n).for_each(|_| c.add(200, 3_000 * n, 0, None));
                        (v.to_owned(), buckets.iter().map(|_| c.clone()).collect())
                    })
                    .collect(),
            ),
            buckets,
        }
    }

    #[test]
    fn charts_are_svg_with_their_lines_legend_and_markers() {
        let svg = requests_chart(&view(), (640, 240));
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("polyline"), "a line is drawn");
        assert!(svg.contains("v7 release"), "the marker is labelled");
        assert!(svg.contains("Requests") && svg.contains("5xx"), "the legend names the lines");
        let latency = latency_chart(&view(), (640, 240));
        assert!(latency.contains("p99"));
        // A range without traffic still draws (empty axes).
        let mut empty = view();
        empty.buckets.iter_mut().for_each(|b| *b = StatsBucket::new(String::new(), b.start_unix, &Counts::default()));
        assert!(requests_chart(&empty, (640, 240)).starts_with("<svg"));
        assert!(sparkline(&view(), (160, 32)).contains("polyline"));
        // One line per version, named in the legend; none with a single version.
        let versions = versions_chart(&view(), (640, 240));
        assert!(versions.contains("1.0.0") && versions.contains("1.1.0"), "{versions}");
        // Two lines, in the first two version colours (blue, green), not a third (amber).
        assert!(versions.contains("#1F6FEB") && versions.contains("#1A7F37"), "{versions}");
        assert!(!versions.contains("#D98C00"), "{versions}");
        assert!(version_latency_chart(&view(), (640, 240)).contains("1.1.0"));
        let mut single = view();
        single.versions.truncate(1);
        assert_eq!(versions_chart(&single, (640, 240)), "");
        assert_eq!(ticks(1_800_000_000, 1_800_003_600).len(), 5, "every 10 minutes, inside the range");
        assert!(ticks(0, 7 * 86_400).iter().all(|t| t % 86_400 == 0));
    }
}
