//! A grouped bar chart as a standalone SVG document.

use std::fmt::Write;

/// One group of bars: its label and one value per series.
#[derive(Debug, Clone)]
pub struct Bars {
    pub label: String,
    pub values: Vec<i64>,
}

const WIDTH: usize = 720;
const CHART_HEIGHT: usize = 240;
const TOP: usize = 40;
const LEFT: usize = 48;
const LABEL_SPACE: usize = 96;
const COLOURS: [&str; 4] = ["seagreen", "firebrick", "steelblue", "goldenrod"];

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A grouped bar chart of `groups`, one colour per series named in `series`, titled `title`.
pub fn bar_chart(title: &str, series: &[&str], groups: &[Bars]) -> String {
    let height = TOP + CHART_HEIGHT + LABEL_SPACE;
    let max = groups.iter().flat_map(|group| group.values.iter().copied()).max().unwrap_or(0).max(1);
    let slot = (WIDTH - LEFT - 16) / groups.len().max(1);
    let bar = (slot.saturating_sub(8) / series.len().max(1)).max(1);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="11" role="img" aria-label="{title}"><title>{title}</title><text x="{LEFT}" y="20" font-size="14" font-weight="bold">{title}</text>"#,
        title = escape(title)
    );
    for (index, name) in series.iter().enumerate() {
        let x = WIDTH - 160 + index * 80;
        let colour = COLOURS[index % COLOURS.len()];
        let _ = write!(
            svg,
            r#"<rect x="{x}" y="10" width="10" height="10" fill="{colour}"/><text x="{}" y="19">{}</text>"#,
            x + 14,
            escape(name)
        );
    }
    let base = TOP + CHART_HEIGHT;
    let _ = write!(svg, r#"<line x1="{LEFT}" y1="{base}" x2="{}" y2="{base}" stroke="gray"/>"#, WIDTH - 8);
    let _ = write!(svg, r#"<text x="{}" y="{}" text-anchor="end">{max}</text>"#, LEFT - 4, TOP + 4);
    for (position, group) in groups.iter().enumerate() {
        let x0 = LEFT + 4 + position * slot;
        for (index, value) in group.values.iter().enumerate() {
            let h = usize::try_from(*value).unwrap_or(0) * CHART_HEIGHT / usize::try_from(max).unwrap_or(1);
            let colour = COLOURS[index % COLOURS.len()];
            let _ = write!(
                svg,
                r#"<rect x="{}" y="{}" width="{bar}" height="{h}" fill="{colour}"><title>{}: {value}</title></rect>"#,
                x0 + index * bar,
                base - h,
                escape(&group.label)
            );
        }
        let label_x = x0 + slot / 2;
        let _ = write!(
            svg,
            r#"<text x="{label_x}" y="{}" transform="rotate(45 {label_x} {})">{}</text>"#,
            base + 14,
            base + 14,
            escape(&group.label)
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_is_one_escaped_svg_document_with_a_bar_per_value() {
        let groups = vec![
            Bars { label: "Huyện An Lão".to_owned(), values: vec![3, 1] },
            Bars { label: "A<B".to_owned(), values: vec![0, 2] },
        ];
        let svg = bar_chart("Tháng 07/2021", &["created", "failed"], &groups);
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.ends_with("</svg>"));
        assert!(svg.contains("Huyện An Lão") && svg.contains("A&lt;B") && !svg.contains("A<B"));
        assert_eq!(svg.matches("<rect").count(), 2 + 4, "a legend swatch per series and a bar per value");
    }
}
