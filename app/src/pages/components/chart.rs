//! Calls per day as a bar chart, drawn as SVG by the server: it shows without JavaScript and
//! costs the browser nothing. Each bar stacks the calls answered (accent) under the calls
//! refused by limits (red), and carries its own tooltip; the chart as a whole has a text
//! summary for screen readers.

use crate::apikeys::DayUsage;
use leptos::prelude::*;

/// How a chart is drawn: a small one in a table cell, a large one on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChartSize {
    Spark,
    Large,
}

/// The bar chart of `days` (oldest first). `label` says what is counted ("calls with this
/// key"), for the summary.
#[component]
pub fn UsageChart(days: Vec<DayUsage>, label: String, size: ChartSize) -> impl IntoView {
    let (bar, gap, height) = match size {
        ChartSize::Spark => (4u64, 1u64, 28u64),
        ChartSize::Large => (16, 4, 160),
    };
    let peak = days.iter().map(|d| d.calls + d.refused).max().unwrap_or(0).max(1);
    let width = days.len() as u64 * (bar + gap);
    let calls: u64 = days.iter().map(|d| d.calls).sum();
    let refused: u64 = days.iter().map(|d| d.refused).sum();
    let summary = format!(
        "{label}, per day over the last {} days: {} answered, {} refused by limits; busiest day {}.",
        days.len(),
        thousands(calls),
        thousands(refused),
        days.iter()
            .max_by_key(|d| d.calls + d.refused)
            .filter(|d| d.calls + d.refused > 0)
            .map(|d| format!("{} with {}", d.day, thousands(d.calls + d.refused)))
            .unwrap_or_else(|| "none".to_owned()),
    );
    // Scaled so that the busiest day fills the height; any day with calls gets a visible bar.
    let scale = |n: u64| if n == 0 { 0 } else { (n * height / peak).max(1) };
    let bars = days
        .into_iter()
        .enumerate()
        .map(|(i, d)| {
            let x = i as u64 * (bar + gap);
            let (answered, refused) = (scale(d.calls), scale(d.refused));
            let tip = format!("{}: {} answered, {} refused", d.day, thousands(d.calls), thousands(d.refused));
            view! {
                <g class="day" data-day=d.day.clone() data-calls=d.calls data-refused=d.refused>
                    <title>{tip}</title>
                    <rect class="track" x=x y=0 width=bar height=height />
                    <rect class="calls" x=x y=height - answered width=bar height=answered />
                    <rect class="refused" x=x y=height - answered - refused width=bar height=refused />
                </g>
            }
        })
        .collect_view();
    let class = match size {
        ChartSize::Spark => "usage-chart spark",
        ChartSize::Large => "usage-chart large",
    };
    let summary_label = summary.clone();
    view! {
        <svg
            class=class
            role="img"
            aria-label=summary_label
            viewBox=format!("0 0 {width} {height}")
            width=width
            height=height
            preserveAspectRatio="none"
            data-testid="usage-chart"
        >
            <title>{summary}</title>
            {bars}
        </svg>
    }
}

/// A count with thousands separators: 12,345.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn groups_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
