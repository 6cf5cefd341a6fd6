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
