//! The statistics of `pyfreeze bench`: medians, ranges and per-round ratios.
//!
//! A measurement is a series of rounds; in each round every configuration runs `repeats`
//! times, one configuration after another. A configuration's value in a round is the median of
//! its runs in that round, and its ratio to the reference is computed round by round (the two
//! ran within seconds of each other) before the median is taken, so drift of the machine
//! between rounds cancels out.

/// The median of `values` (the mean of the two middle ones for an even count); `None` when
/// empty. NaNs are not expected and sort last.
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    Some(if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    })
}

/// What the report shows of one configuration in one workload.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Median of the per-round values.
    pub median: f64,
    /// Smallest and largest single run.
    pub min: f64,
    pub max: f64,
    /// Median of the per-round ratios to the reference (1.0 for the reference itself).
    pub ratio: Option<f64>,
}

/// The samples of one configuration: `rounds[r]` holds its runs in round `r`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Samples {
    pub rounds: Vec<Vec<f64>>,
}

impl Samples {
    /// Records one run in round `round`.
    pub fn push(&mut self, round: usize, value: f64) {
        if self.rounds.len() <= round {
            self.rounds.resize(round + 1, Vec::new());
        }
        self.rounds[round].push(value);
    }

    /// The value of each round: the median of its runs (rounds without runs are skipped).
    pub fn round_values(&self) -> Vec<Option<f64>> {
        self.rounds.iter().map(|r| median(r)).collect()
    }

    pub fn all(&self) -> impl Iterator<Item = f64> + '_ {
        self.rounds.iter().flatten().copied()
    }
}

/// The median over rounds of `x[r] / reference[r]`, counting only rounds where both ran.
pub fn ratio_of_rounds(x: &Samples, reference: &Samples) -> Option<f64> {
    let ratios: Vec<f64> = x
        .round_values()
        .into_iter()
        .zip(reference.round_values())
        .filter_map(|(a, b)| match (a, b) {
            (Some(a), Some(b)) if b > 0.0 => Some(a / b),
            _ => None,
        })
        .collect();
    median(&ratios)
}

/// Summarises `x`, with its ratio to `reference` (None: no ratio). `None` without samples.
pub fn summarize(x: &Samples, reference: Option<&Samples>) -> Option<Summary> {
    let values: Vec<f64> = x.round_values().into_iter().flatten().collect();
    let median = median(&values)?;
    let (min, max) = x
        .all()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    Some(Summary {
        median,
        min,
        max,
        ratio: reference.and_then(|r| ratio_of_rounds(x, r)),
    })
}

/// Rotates `items` left by `round` positions: the order configurations run in a round, so that
/// none is always first (after an idle pause) or always after the same neighbour.
pub fn rotated<T: Clone>(items: &[T], round: usize) -> Vec<T> {
    if items.is_empty() {
        return Vec::new();
    }
    let k = round % items.len();
    items[k..].iter().chain(&items[..k]).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(rounds: &[&[f64]]) -> Samples {
        let mut s = Samples::default();
        for (r, values) in rounds.iter().enumerate() {
            for v in *values {
                s.push(r, *v);
            }
        }
        s
    }

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[2.0, 2.0, 9.0, 2.0]), Some(2.0));
    }

    #[test]
    fn round_value_is_the_median_of_its_runs() {
        let s = samples(&[&[10.0, 12.0, 30.0], &[], &[7.0]]);
        assert_eq!(s.round_values(), vec![Some(12.0), None, Some(7.0)]);
    }

    #[test]
    fn ratio_is_taken_per_round_before_the_median() {
        // The machine slows down in round 2: per-round ratios stay at 0.5, while the ratio of
        // the medians (15/20 = 0.75) would be skewed by the drift.
        let reference = samples(&[&[10.0], &[20.0], &[40.0]]);
        let x = samples(&[&[5.0], &[10.0], &[20.0]]);
        assert_eq!(ratio_of_rounds(&x, &reference), Some(0.5));
        let drifting = samples(&[&[10.0], &[10.0], &[40.0]]);
        let fast = samples(&[&[5.0], &[15.0], &[10.0]]);
        // Ratios 0.5, 1.5, 0.25: median 0.5.
        assert_eq!(ratio_of_rounds(&fast, &drifting), Some(0.5));
    }

    #[test]
    fn ratio_skips_rounds_missing_on_either_side() {
        let reference = samples(&[&[10.0], &[], &[10.0]]);
        let x = samples(&[&[20.0], &[1.0], &[]]);
        assert_eq!(ratio_of_rounds(&x, &reference), Some(2.0));
        assert_eq!(ratio_of_rounds(&x, &Samples::default()), None);
    }

    #[test]
    fn summary_has_median_of_rounds_and_range_of_runs() {
        let reference = samples(&[&[10.0, 11.0, 12.0], &[20.0, 21.0, 22.0]]);
        let x = samples(&[&[4.0, 5.0, 9.0], &[8.0, 10.0, 30.0]]);
        let s = summarize(&x, Some(&reference)).unwrap();
        assert_eq!(s.median, 7.5); // rounds: 5 and 10
        assert_eq!((s.min, s.max), (4.0, 30.0));
        assert_eq!(s.ratio, Some((5.0 / 11.0 + 10.0 / 21.0) / 2.0));
        assert_eq!(summarize(&x, None).unwrap().ratio, None);
        assert_eq!(summarize(&Samples::default(), None), None);
        assert_eq!(
            summarize(&reference, Some(&reference)).unwrap().ratio,
            Some(1.0)
        );
    }

    #[test]
    fn rotation_moves_every_item_to_the_front_once() {
        let items = ["a", "b", "c"];
        assert_eq!(rotated(&items, 0), ["a", "b", "c"]);
        assert_eq!(rotated(&items, 1), ["b", "c", "a"]);
        assert_eq!(rotated(&items, 2), ["c", "a", "b"]);
        assert_eq!(rotated(&items, 3), ["a", "b", "c"]);
        assert!(rotated::<u8>(&[], 5).is_empty());
    }
}
