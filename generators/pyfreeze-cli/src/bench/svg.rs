//! A small SVG writer for the bench chart: one panel per workload, one horizontal bar per
//! configuration (the median), a line for its min–max range and a label with the value and
//! the ratio to the reference. Output depends only on the input: numbers are printed with a
//! fixed number of decimals, nothing else (time, host) goes in.

use std::fmt::Write;

/// One bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Stable identifier, written as `data-config`.
    pub id: String,
    pub label: String,
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub ratio: Option<f64>,
    /// Fill colour (`#rrggbb`).
    pub color: String,
    /// Drawn with a dashed outline (the floors, which are not importers).
    pub dashed: bool,
}

/// One workload.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// Stable identifier, written as `data-workload`.
    pub id: String,
    pub title: String,
    pub unit: String,
    pub bars: Vec<Bar>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    pub title: String,
    /// Lines under the title (method, versions, load).
    pub notes: Vec<String>,
    pub panels: Vec<Panel>,
}

const WIDTH: f64 = 960.0;
const LABEL_W: f64 = 300.0;
const PLOT_W: f64 = 470.0;
const ROW_H: f64 = 26.0;
const BAR_H: f64 = 16.0;
const MARGIN: f64 = 16.0;
/// The axis reaches this multiple of the largest median.
const AXIS_HEADROOM: f64 = 1.5;

/// Escapes text for an XML text node or attribute value.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// A round step for about `target` grid lines up to `max`: 1, 2 or 5 times a power of ten.
pub fn nice_step(max: f64, target: usize) -> f64 {
    if max.is_nan() || max <= 0.0 || max.is_infinite() {
        return 1.0;
    }
    let raw = max / target.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    step
}

/// Decimals to print values of this size with three significant digits.
fn decimals(value: f64) -> usize {
    match value.abs() {
        v if v >= 100.0 => 0,
        v if v >= 10.0 => 1,
        v if v >= 1.0 => 2,
        _ => 3,
    }
}

/// `value` with three significant digits (9.996 is "10.0", not "10.00").
pub fn sig3(value: f64) -> String {
    let d = decimals(value);
    let s = format!("{value:.d$}");
    let rounded: f64 = s.parse().unwrap_or(value);
    let d2 = decimals(rounded);
    if d2 < d {
        format!("{value:.d2$}")
    } else {
        s
    }
}

/// Decimals that show every multiple of `step` exactly (5 → 0, 0.2 → 1, 0.05 → 2).
fn step_decimals(step: f64) -> usize {
    (0..6)
        .find(|d| {
            let scaled = step * 10f64.powi(*d as i32);
            (scaled - scaled.round()).abs() < 1e-6
        })
        .unwrap_or(6)
}

fn num(v: f64) -> String {
    // Coordinates: two decimals are plenty and keep the file stable.
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// Renders the chart.
pub fn render(chart: &Chart) -> String {
    let mut body = String::new();
    let mut y = MARGIN + 18.0;
    let _ = writeln!(
        body,
        r#"<text x="{}" y="{}" font-size="17" font-weight="bold">{}</text>"#,
        num(MARGIN),
        num(y),
        escape(&chart.title)
    );
    for note in &chart.notes {
        y += 18.0;
        let _ = writeln!(
            body,
            r##"<text x="{}" y="{}" fill="#555">{}</text>"##,
            num(MARGIN),
            num(y),
            escape(note)
        );
    }
    y += 14.0;
    for panel in &chart.panels {
        y = render_panel(&mut body, panel, y);
    }
    let height = y + MARGIN;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="13">"#,
        w = num(WIDTH),
        h = num(height)
    );
    let _ = writeln!(out, "<title>{}</title>", escape(&chart.title));
    let _ = writeln!(
        out,
        r##"<rect x="0" y="0" width="{}" height="{}" fill="#ffffff"/>"##,
        num(WIDTH),
        num(height)
    );
    out.push_str(&body);
    out.push_str("</svg>\n");
    out
}

fn render_panel(out: &mut String, panel: &Panel, top: f64) -> f64 {
    let mut y = top + 22.0;
    let _ = writeln!(
        out,
        r#"<g class="panel" data-workload="{}">"#,
        escape(&panel.id)
    );
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" font-size="15" font-weight="bold">{}</text>"#,
        num(MARGIN),
        num(y),
        escape(&panel.title)
    );
    y += 10.0;
    // The axis fits the medians (with room for the labels), not the slowest single run: one
    // outlier would squash every bar. Longer range lines end in a marker at the axis end.
    let max = panel
        .bars
        .iter()
        .map(|b| b.median * AXIS_HEADROOM)
        .fold(0.0f64, f64::max);
    let step = nice_step(max, 5);
    let ticks = if max > 0.0 {
        (max / step).ceil().max(1.0) as usize
    } else {
        1
    };
    let axis_max = step * ticks as f64;
    let x0 = MARGIN + LABEL_W;
    let scale = |v: f64| x0 + PLOT_W * (v / axis_max).clamp(0.0, 1.0);
    let rows_top = y + 6.0;
    let rows_bottom = rows_top + ROW_H * panel.bars.len() as f64;
    let tick_decimals = step_decimals(step);
    for i in 0..=ticks {
        let v = step * i as f64;
        let x = scale(v);
        let _ = writeln!(
            out,
            r##"<line x1="{x}" y1="{}" x2="{x}" y2="{}" stroke="#dddddd" stroke-width="1"/>"##,
            num(rows_top),
            num(rows_bottom),
            x = num(x)
        );
        let _ = writeln!(
            out,
            r##"<text x="{}" y="{}" text-anchor="middle" font-size="11" fill="#777">{:.*}{}</text>"##,
            num(x),
            num(rows_bottom + 14.0),
            tick_decimals,
            v,
            if i == ticks {
                format!(" {}", escape(&panel.unit))
            } else {
                String::new()
            }
        );
    }
    for (i, bar) in panel.bars.iter().enumerate() {
        let row = rows_top + ROW_H * i as f64;
        let mid = row + ROW_H / 2.0;
        let _ = writeln!(out, r#"<g class="row">"#);
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            num(x0 - 8.0),
            num(mid + 4.5),
            escape(&bar.label)
        );
        let stroke = if bar.dashed {
            r##" stroke="#888888" stroke-dasharray="4 2""##
        } else {
            ""
        };
        let _ = writeln!(
            out,
            r#"<rect class="bar" data-config="{}" x="{}" y="{}" width="{}" height="{}" fill="{}"{stroke}/>"#,
            escape(&bar.id),
            num(x0),
            num(mid - BAR_H / 2.0),
            num(scale(bar.median) - x0),
            num(BAR_H),
            escape(&bar.color)
        );
        let _ = writeln!(
            out,
            r##"<line class="range" x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="#222222" stroke-width="1.5"/>"##,
            num(scale(bar.min)),
            num(scale(bar.max)),
            y = num(mid)
        );
        if bar.max > axis_max {
            let x = scale(axis_max);
            let _ = writeln!(
                out,
                r##"<path class="clipped" d="M{} {}L{} {}L{} {}Z" fill="#222222"/>"##,
                num(x),
                num(mid - 4.0),
                num(x + 6.0),
                num(mid),
                num(x),
                num(mid + 4.0)
            );
        }
        let value = format!(
            "{} {}{}",
            sig3(bar.median),
            panel.unit,
            match bar.ratio {
                Some(r) => format!("  ×{r:.2}"),
                None => String::new(),
            }
        );
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}">{}</text>"#,
            num(scale(bar.max.max(bar.median)) + if bar.max > axis_max { 12.0 } else { 6.0 }),
            num(mid + 4.5),
            escape(&value)
        );
        let _ = writeln!(out, "</g>");
    }
    let _ = writeln!(out, "</g>");
    rows_bottom + 24.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(id: &str, median: f64, ratio: Option<f64>) -> Bar {
        Bar {
            id: id.into(),
            label: format!("{id} <label> & \"more\""),
            median,
            min: median * 0.9,
            max: median * 1.2,
            ratio,
            color: "#4e79a7".into(),
            dashed: id == "floor",
        }
    }

    fn chart() -> Chart {
        Chart {
            title: "pyfreeze bench: CPython 3.11.7".into(),
            notes: vec!["alternating runs; load 0.12".into()],
            panels: vec![
                Panel {
                    id: "startup".into(),
                    title: "start-up".into(),
                    unit: "ms".into(),
                    bars: vec![bar("a", 12.5, Some(1.0)), bar("b", 10.25, Some(0.82))],
                },
                Panel {
                    id: "imports".into(),
                    title: "import the stdlib".into(),
                    unit: "ms".into(),
                    bars: vec![
                        bar("a", 180.0, Some(1.0)),
                        bar("b", 150.0, Some(0.83)),
                        bar("floor", 40.0, None),
                    ],
                },
            ],
        }
    }

    /// Checks that tags nest and attributes are quoted: a minimal well-formedness test (the
    /// integration test parses the real output with a real XML parser).
    fn assert_well_formed(svg: &str) {
        let mut stack: Vec<String> = Vec::new();
        let mut rest = svg;
        while let Some(open) = rest.find('<') {
            let text = &rest[..open];
            assert!(!text.contains('>'), "stray > in text {text:?}");
            let close = rest[open..].find('>').expect("unclosed tag") + open;
            let tag = &rest[open + 1..close];
            rest = &rest[close + 1..];
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(stack.pop().as_deref(), Some(name), "mismatched </{name}>");
            } else {
                let self_closing = tag.ends_with('/');
                let tag = tag.trim_end_matches('/');
                let name = tag.split_whitespace().next().unwrap().to_string();
                assert_eq!(
                    tag.matches('"').count() % 2,
                    0,
                    "unbalanced quotes in <{tag}>"
                );
                assert!(!tag.contains('<'), "< inside <{tag}>");
                if !self_closing {
                    stack.push(name);
                }
            }
        }
        assert!(stack.is_empty(), "unclosed: {stack:?}");
        assert!(rest.trim().is_empty());
        for (i, _) in svg.match_indices('&') {
            let entity = &svg[i..svg[i..].find(';').map_or(svg.len(), |e| i + e + 1)];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"].contains(&entity),
                "bad entity {entity:?}"
            );
        }
    }

    #[test]
    fn renders_a_bar_per_configuration_and_panel() {
        let svg = render(&chart());
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert_well_formed(&svg);
        assert_eq!(svg.matches(r#"<rect class="bar""#).count(), 5);
        assert_eq!(svg.matches(r#"<g class="panel""#).count(), 2);
        assert!(svg.contains(r#"data-workload="imports""#));
        assert!(svg.contains(r#"data-config="floor""#));
        assert!(svg.contains("12.5 ms  ×1.00"), "{svg}");
        assert!(svg.contains("40.0 ms<"), "a floor has no ratio: {svg}");
        assert!(svg.contains("stroke-dasharray"));
    }

    #[test]
    fn output_is_deterministic_and_escaped() {
        let a = render(&chart());
        assert_eq!(a, render(&chart()));
        assert!(a.contains("a &lt;label&gt; &amp; &quot;more&quot;"));
        assert!(!a.contains("<label>"));
        assert_eq!(escape("a'b\u{1}c"), "a&#39;bc");
    }

    #[test]
    fn bars_scale_to_the_axis() {
        let svg = render(&chart());
        // Start-up axis: 1.5 x the largest median 12.5 = 18.75 -> step 5, axis 20; bar a is
        // 12.5/20 of 470 px.
        let want = format!(r#"width="{}""#, num(470.0 * 12.5 / 20.0));
        assert!(svg.contains(&want), "{want} not in {svg}");
        assert!(
            !svg.contains("clipped"),
            "nothing is beyond the axis: {svg}"
        );
    }

    #[test]
    fn an_outlier_does_not_squash_the_bars() {
        let mut c = chart();
        c.panels[0].bars[1].max = 60.0; // one slow run
        let svg = render(&c);
        assert_well_formed(&svg);
        assert!(svg.contains(&format!(r#"width="{}""#, num(470.0 * 12.5 / 20.0))));
        assert_eq!(svg.matches(r#"<path class="clipped""#).count(), 1);
        // The range line ends at the axis end (x0 + 470).
        let end = num(MARGIN + LABEL_W + PLOT_W);
        assert!(svg.contains(&format!(r#"x2="{end}""#)), "{svg}");
    }

    #[test]
    fn nice_steps() {
        assert_eq!(nice_step(15.0, 5), 5.0);
        assert_eq!(nice_step(180.0, 5), 50.0);
        assert_eq!(nice_step(9.0, 5), 2.0);
        assert_eq!(nice_step(0.7, 5), 0.2);
        assert_eq!(nice_step(0.0, 5), 1.0);
        assert_eq!(nice_step(f64::NAN, 5), 1.0);
    }

    #[test]
    fn significant_digits_and_tick_decimals() {
        assert_eq!(sig3(9.996), "10.0");
        assert_eq!(sig3(9.994), "9.99");
        assert_eq!(sig3(99.96), "100");
        assert_eq!(sig3(0.1234), "0.123");
        assert_eq!(sig3(183.4), "183");
        assert_eq!(step_decimals(5.0), 0);
        assert_eq!(step_decimals(50.0), 0);
        assert_eq!(step_decimals(0.2), 1);
        assert_eq!(step_decimals(0.05), 2);
        let svg = render(&chart());
        assert!(svg.contains(">20 ms</text>"), "{svg}");
        assert!(svg.contains(">5</text>"), "{svg}");
    }

    #[test]
    fn numbers_are_short_and_stable() {
        assert_eq!(num(10.0), "10");
        assert_eq!(num(10.5), "10.5");
        assert_eq!(num(1.0 / 3.0), "0.33");
        assert_eq!(num(-0.001), "0");
    }
}
