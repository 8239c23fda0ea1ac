//! The token activity chart: tokens issued (above the line) and refused (below) per hour,
//! with a scale, day labels, a legend, each hour's values on hover, and the same numbers per
//! day in a table for those who do not read charts. Inline SVG: no script, no library.

use leptos::prelude::*;

use crate::domain::views::HourCount;
use crate::domain::when::civil;

/// Width of one hour's bar, in SVG units.
const BAR: i64 = 4;
/// Room left of the plot (the scale) and below it (the days).
const LEFT: i64 = 40;
const BOTTOM: i64 = 18;
const TOP: i64 = 8;
/// Height of each half (issued, refused).
const HALF: i64 = 60;

/// The smallest of 1, 2, 5, 10, 20, 50… at least `n`: the scale's top.
pub fn nice_top(n: i64) -> i64 {
    let mut step = 1;
    loop {
        for m in [1, 2, 5] {
            if m * step >= n {
                return m * step;
            }
        }
        step *= 10;
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `Nov 30` (UTC).
fn day_label(t: i64) -> String {
    let (_, m, d, ..) = civil(t);
    format!("{} {d}", MONTHS[(m - 1) as usize])
}

/// Sums per UTC day: (day start, issued, refused), oldest first.
pub fn per_day(hours: &[HourCount]) -> Vec<(i64, i64, i64)> {
    let mut days: Vec<(i64, i64, i64)> = Vec::new();
    for h in hours {
        let day = h.hour - h.hour.rem_euclid(86_400);
        match days.last_mut() {
            Some(last) if last.0 == day => {
                last.1 += h.issued;
                last.2 += h.refused;
            }
            _ => days.push((day, h.issued, h.refused)),
        }
    }
    days
}

#[component]
pub fn TokenChart(
    hours: Vec<HourCount>,
    /// The chart's heading.
    #[prop(into)]
    title: String,
) -> impl IntoView {
    let issued: i64 = hours.iter().map(|h| h.issued).sum();
    let refused: i64 = hours.iter().map(|h| h.refused).sum();
    let top = nice_top(
        hours
            .iter()
            .map(|h| h.issued.max(h.refused))
            .max()
            .unwrap_or(0)
            .max(1),
    );
    // A count as a bar height: at least one unit, so one request in a quiet week shows.
    let scale = move |n: i64| if n == 0 { 0 } else { (n * HALF / top).max(1) };
    let plot = hours.len() as i64 * BAR;
    let (width, height) = (LEFT + plot + 8, TOP + 2 * HALF + BOTTOM);
    let mid = TOP + HALF;
    let mut ticks = vec![(top, TOP), (0, mid), (top, mid + HALF)];
    if top >= 2 {
        ticks.extend([(top / 2, TOP + HALF / 2), (top / 2, mid + HALF / 2)]);
    }
    let ticks = ticks
        .into_iter()
        .map(|(n, y)| {
            view! {
                <line class="grid" x1=LEFT x2=LEFT + plot y1=y y2=y/>
                <text class="tick" x=LEFT - 4 y=y + 4 text-anchor="end">{n}</text>
            }
        })
        .collect_view();
    let days = hours
        .iter()
        .enumerate()
        .filter(|(_, h)| h.hour.rem_euclid(86_400) == 0)
        .map(|(i, h)| {
            let x = LEFT + i as i64 * BAR;
            view! {
                <line class="day" x1=x x2=x y1=TOP y2=mid + HALF/>
                <text class="tick" x=x + 2 y=height - 4>{day_label(h.hour)}</text>
            }
        })
        .collect_view();
    let bars = hours
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let x = LEFT + i as i64 * BAR;
            let (up, down) = (scale(h.issued), scale(h.refused));
            let title = format!(
                "{}: {} issued, {} refused",
                crate::domain::when::utc_minutes(h.hour),
                h.issued,
                h.refused
            );
            view! {
                <g class="hour">
                    <title>{title}</title>
                    <rect class="hit" x=x y=TOP width=BAR height=2 * HALF/>
                    <rect class="issued" x=x y=mid - up width=BAR - 1 height=up/>
                    <rect class="refused" x=x y=mid width=BAR - 1 height=down/>
                </g>
            }
        })
        .collect_view();
    let table = per_day(&hours)
        .into_iter()
        .rev()
        .map(|(day, i, r)| view! { <tr><td>{day_label(day)}</td><td>{i}</td><td>{r}</td></tr> })
        .collect_view();
    let label = format!(
        "{title}: {issued} tokens issued and {refused} refused over 7 days; busiest hour {top_n}.",
        top_n = hours
            .iter()
            .map(|h| h.issued + h.refused)
            .max()
            .unwrap_or(0)
    );
    view! {
        <section class="panel chart-panel">
            <h2>{title.clone()}</h2>
            <p class="hint" data-testid="token-totals">
                {format!("{issued} issued, {refused} refused in the last 7 days. Point at an hour to see its numbers.")}
            </p>
            <div class="chart-scroll" tabindex="0" role="region" aria-label=format!("{title}, scrolls sideways")>
                <svg class="chart" viewBox=format!("0 0 {width} {height}") role="img" aria-label=label>
                    {ticks}
                    {days}
                    {bars}
                    <line class="axis" x1=LEFT x2=LEFT + plot y1=mid y2=mid/>
                </svg>
            </div>
            <p class="legend">
                <span class="swatch issued" aria-hidden="true"></span> "Issued (above the line)"
                <span class="swatch refused" aria-hidden="true"></span> "Refused (below the line)"
                <span class="muted">" · scale: tokens per hour, days in UTC"</span>
            </p>
            <details class="chart-table">
                <summary>"Show the numbers per day"</summary>
                <table class="list">
                    <thead><tr><th scope="col">"Day (UTC)"</th><th scope="col">"Issued"</th><th scope="col">"Refused"</th></tr></thead>
                    <tbody>{table}</tbody>
                </table>
            </details>
        </section>
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn scale_tops_are_round() {
        assert_eq!(nice_top(1), 1);
        assert_eq!(nice_top(3), 5);
        assert_eq!(nice_top(7), 10);
        assert_eq!(nice_top(11), 20);
        assert_eq!(nice_top(4_321), 5_000);
    }

    #[test]
    fn days_sum_their_hours() {
        let h = |hour, issued, refused| HourCount {
            hour,
            issued,
            refused,
        };
        let hours = [
            h(86_400 - 3600, 1, 0),
            h(86_400, 2, 1),
            h(86_400 + 3600, 3, 4),
        ];
        assert_eq!(per_day(&hours), [(0, 1, 0), (86_400, 5, 5)]);
        assert_eq!(day_label(1_795_651_200), "Nov 26");
    }
}
