//! Small pictures of round trips in a terminal: a column of numbers hides
//! what a plot shows at once (a slow outlier, a drift, a lost probe).
//!
//! A sparkline gives each value one character of eight heights (a lost
//! probe is a gap), squeezed into the width by averaging neighbours; a
//! histogram gives each range of values one bar. Both have an ASCII form
//! for terminals without UTF-8.

/// The eight heights, lowest first.
const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
const ASCII_BLOCKS: [char; 8] = ['_', '.', '-', '~', '=', '+', '*', '#'];

/// One character per value (or per group of values when there are more than
/// `width`), scaled between the smallest and the largest; `None` (a lost
/// probe) is a space.
pub fn sparkline(values: &[Option<f64>], width: usize, ascii: bool) -> String {
    let blocks = if ascii { &ASCII_BLOCKS } else { &BLOCKS };
    let width = width.max(1);
    // Groups of consecutive values, as many as fit.
    let group = values.len().div_ceil(width).max(1);
    let points: Vec<Option<f64>> = values
        .chunks(group)
        .map(|chunk| {
            let known: Vec<f64> = chunk.iter().flatten().copied().collect();
            (!known.is_empty()).then(|| known.iter().sum::<f64>() / known.len() as f64)
        })
        .collect();
    let known = points.iter().flatten();
    let (low, high) = known.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(*v), hi.max(*v))
    });
    points
        .iter()
        .map(|point| match point {
            None => ' ',
            Some(_) if high <= low => blocks[3],
            Some(v) => {
                let level = ((v - low) / (high - low) * 7.0).round() as usize;
                blocks[level.min(7)]
            }
        })
        .collect()
}

/// `rows` bars, one per equal range between the smallest and largest value,
/// each as long as its count allows within `width` columns, labelled with its
/// range (in `unit`) and its count.
pub fn histogram(values: &[f64], rows: usize, width: usize, ascii: bool, unit: &str) -> String {
    if values.is_empty() {
        return String::new();
    }
    let (low, high) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        });
    let rows = if high > low { rows.max(1) } else { 1 };
    let step = (high - low) / rows as f64;
    let mut counts = vec![0usize; rows];
    for v in values {
        let row = if step > 0.0 {
            ((v - low) / step) as usize
        } else {
            0
        };
        counts[row.min(rows - 1)] += 1;
    }
    let most = counts.iter().copied().max().unwrap_or(1).max(1);
    let labels: Vec<String> = (0..rows)
        .map(|r| {
            let from = low + step * r as f64;
            format!("{from:.3}-{:.3} {unit}", from + step)
        })
        .collect();
    let label_width = labels.iter().map(String::len).max().unwrap_or(0);
    let count_width = most.to_string().len();
    let bar_room = width.saturating_sub(label_width + count_width + 4).max(10);
    let (bar, rail) = if ascii { ('#', '|') } else { ('█', '│') };
    let mut out = String::new();
    for (label, count) in labels.iter().zip(&counts) {
        let length = (count * bar_room).div_ceil(most);
        let bar: String = std::iter::repeat_n(bar, length).collect();
        out += &format!("{label:>label_width$} {rail}{bar} {count:>count_width$}\n");
    }
    out
}

/// The same pictures as an SVG chart, for slides and notes: one line per
/// series (a ping's probes, a trace's hops), value against position, lost
/// probes left as gaps in the line, with a title and the value range; and,
/// when `histogram` is set, a bar chart of the first series' values below.
pub fn svg_chart(title: &str, series: &[(String, Vec<Option<f64>>)], histogram: bool) -> String {
    const WIDTH: f64 = 900.0;
    const LEFT: f64 = 160.0;
    const PLOT_WIDTH: f64 = 700.0;
    const ROW: f64 = 70.0;
    const BARS_HEIGHT: f64 = 160.0;
    let values = series.iter().flat_map(|(_, v)| v.iter().flatten().copied());
    let (low, high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let (low, high) = if low.is_finite() {
        (low, high.max(low + 1e-9))
    } else {
        (0.0, 1.0)
    };
    let mut body = String::new();
    let mut y = 50.0;
    for (name, points) in series {
        let count = points.len().max(2) as f64 - 1.0;
        // Each run of answered probes is one polyline; a loss breaks it.
        let mut runs: Vec<String> = vec![String::new()];
        for (i, point) in points.iter().enumerate() {
            match point {
                Some(v) => {
                    let x = LEFT + PLOT_WIDTH * i as f64 / count;
                    let py = y + ROW - 10.0 - (v - low) / (high - low) * (ROW - 20.0);
                    if let Some(run) = runs.last_mut() {
                        run.push_str(&format!("{x:.1},{py:.1} "));
                    }
                }
                None if !runs.last().is_some_and(String::is_empty) => runs.push(String::new()),
                None => {}
            }
        }
        body += &format!(
            "<text class=\"series\" x=\"10\" y=\"{:.1}\">{}</text>\n<line class=\"axis\" x1=\"{LEFT}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\"/>\n",
            y + ROW / 2.0,
            super::xml_escape(name),
            y + ROW,
            LEFT + PLOT_WIDTH,
            y + ROW
        );
        for run in runs.iter().filter(|r| !r.is_empty()) {
            body += &format!("<polyline class=\"rtt\" points=\"{}\"/>\n", run.trim_end());
        }
        y += ROW + 10.0;
    }
    if histogram && let Some((_, first)) = series.first() {
        let values: Vec<f64> = first.iter().flatten().copied().collect();
        let bins = 8usize;
        let step = (high - low) / bins as f64;
        let mut counts = vec![0usize; bins];
        for v in &values {
            counts[(((v - low) / step) as usize).min(bins - 1)] += 1;
        }
        let most = counts.iter().copied().max().unwrap_or(1).max(1) as f64;
        let bar_width = PLOT_WIDTH / bins as f64;
        y += 20.0;
        for (i, count) in counts.iter().enumerate() {
            let height = BARS_HEIGHT * *count as f64 / most;
            let x = LEFT + bar_width * i as f64;
            body += &format!(
                "<rect class=\"bar\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{height:.1}\"/>\n<text class=\"count\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{count}</text>\n",
                x + 2.0,
                y + BARS_HEIGHT - height,
                bar_width - 4.0,
                x + bar_width / 2.0,
                y + BARS_HEIGHT + 16.0
            );
        }
        y += BARS_HEIGHT + 30.0;
    }
    let height = y + 20.0;
    format!(
        r##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height:.0}" viewBox="0 0 {WIDTH} {height:.0}">
<style>
text {{ font-family: monospace; font-size: 13px; fill: #222; }}
.title {{ font-size: 15px; font-weight: bold; }}
.axis {{ stroke: #999; }}
.rtt {{ fill: none; stroke: #1f4e79; stroke-width: 1.5; }}
.bar {{ fill: #1f4e79; }}
</style>
<rect width="100%" height="100%" fill="white"/>
<text class="title" x="10" y="24">{} (round trips {low:.3}-{high:.3} ms)</text>
{body}</svg>
"##,
        super::xml_escape(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sparkline_scales_gaps_and_squeezes() {
        let values = [Some(1.0), Some(2.0), None, Some(8.0), Some(1.0)];
        assert_eq!(sparkline(&values, 80, false), "▁▂ █▁");
        assert_eq!(sparkline(&values, 80, true), "_. #_");
        // Ten values in five columns: pairs averaged.
        let ramp: Vec<Option<f64>> = (0..10).map(|v| Some(f64::from(v))).collect();
        assert_eq!(sparkline(&ramp, 5, false).chars().count(), 5);
        assert_eq!(sparkline(&[Some(3.0), Some(3.0)], 10, false), "▄▄");
    }

    #[test]
    fn a_histogram_counts_every_value_once() {
        let values = [0.1, 0.1, 0.2, 0.9, 1.0];
        let text = histogram(&values, 3, 60, true, "ms");
        let counts: Vec<usize> = text
            .lines()
            .map(|l| l.split_whitespace().last().unwrap().parse().unwrap())
            .collect();
        assert_eq!(counts, [3, 0, 2]);
        assert!(text.starts_with("0.100-0.400 ms |"), "{text}");
        assert_eq!(histogram(&[], 3, 60, true, "ms"), "");
        assert_eq!(histogram(&[0.5, 0.5], 4, 60, true, "ms").lines().count(), 1);
    }
}
